"""The compose rehearsal (issue 21 point 2): every application service of docker-compose.yml
started from its own command as its own process, with compose's environment and a private
temporary folder each, then the smoke journey through it (deploy/rehearse.py).

Needs docker-compose, PostgreSQL (DATABASE_URL: a fresh database is made on its server) and Redis
(REDIS_URL); skipped without them, failed instead in CI (INSERVICE_REQUIRE_SERVICES=1)."""

import os
import shutil
from pathlib import Path

import pytest

from deploy import journey, rehearse
from deploy.stack import Stack
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.integration


def services_or_skip() -> tuple[str, str]:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not shutil.which("docker-compose"):
        skip_or_fail("docker-compose is not installed (apt-get install docker-compose)")
    if not database_url.startswith("postgres") or not redis_url:
        skip_or_fail("the rehearsal needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    return database_url, redis_url


def test_each_service_sees_only_what_compose_shares_with_it(tmp_path):
    if not shutil.which("docker-compose"):
        skip_or_fail("docker-compose is not installed (apt-get install docker-compose)")
    stack = Stack(tmp_path, database_url="postgres://db.invalid/x", redis_url="redis://redis.invalid/3")
    web, worker, beat = (stack.services[name] for name in ("web", "worker", "beat"))
    media = str(tmp_path / "volumes/media")
    assert web.env["DJANGO_MEDIA_ROOT"] == worker.env["DJANGO_MEDIA_ROOT"] == media
    assert stack.services["worker-imports"].env["DJANGO_MEDIA_ROOT"] == media  # 批次上傳 is its task
    assert len({web.env["TMPDIR"], worker.env["TMPDIR"], beat.env["TMPDIR"]}) == 3
    assert Path(beat.env["INSERVICE_STATE_DIR"]) == tmp_path / "volumes/beatstate"
    assert Path(worker.env["INSERVICE_STATE_DIR"]).is_relative_to(tmp_path / "rootfs/worker")
    assert (
        web.env["DATABASE_URL"] == "postgres://db.invalid/x"
        and worker.env["REDIS_URL"] == "redis://redis.invalid/3"
    )
    assert worker.env["CELERY_BROKER_URL"] == "redis://redis.invalid/3"
    assert web.argv[web.argv.index("--bind") + 1] == f"127.0.0.1:{stack.port}"
    assert worker.argv[1:4] == ["-A", "inservice", "worker"] and beat.argv[3] == "beat"
    assert web.env["DJANGO_DEBUG"] == "0" and web.env["PYTHONUNBUFFERED"] == "1"  # compose's and the image's


def test_the_stack_rehearsed_passes_the_smoke_journey(tmp_path):
    database_url, redis_url = services_or_skip()
    with rehearse.rehearsal(database_url, redis_url, tmp_path) as stack:
        journey.seed(stack)
        journey.run(stack.url, stack.dotenv["DJANGO_ALLOWED_HOSTS"])
        # The roster file went through the shared volume and is gone; no service's /tmp kept one.
        assert not any((tmp_path / "volumes/media/transient/uploads").iterdir())
        for name in ("web", "worker", "worker-imports"):
            assert not list((tmp_path / "rootfs" / name / "tmp").glob("roster-*"))
        assert list((tmp_path / "volumes/beatstate").glob("celerybeat-schedule*"))
