"""docker-compose.yml read by compose itself (`docker-compose config`, no daemon): issue 21 point 1."""

import pytest

from deploy import compose
from tests.conftest import skip_or_fail


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    project = tmp_path_factory.mktemp("compose")
    (project / ".env").write_text("POSTGRES_PASSWORD=rehearsal\nDJANGO_SECRET_KEY=x\n")
    try:
        return compose.config(project)["services"]
    except compose.ComposeMissing as missing:
        skip_or_fail(str(missing))


def test_web_worker_and_beat_wait_for_the_migrations(services):
    for name in ("web", "worker", "worker-imports", "beat"):
        assert compose.depends_on(services[name])["migrate"] == "service_completed_successfully", name
    assert "migrate" not in compose.depends_on(services["migrate"])
    assert services["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_health_check(services):
    for name, service in services.items():
        if name == "migrate":
            continue  # one-shot: service_completed_successfully is its check
        assert service.get("healthcheck", {}).get("test"), name
    assert services["web"]["healthcheck"]["test"][-2:] == ["inservice.healthcheck", "web"]
    for worker in ("worker", "worker-imports"):
        assert "celery -A inservice inspect ping" in " ".join(services[worker]["healthcheck"]["test"])


def _mounts(service):
    return {volume.split(":")[1]: volume.split(":")[0] for volume in service.get("volumes", [])}


def test_web_and_worker_share_the_media_volume_named_by_the_environment(services):
    for name in ("web", "worker", "worker-imports", "migrate"):
        root = services[name]["environment"]["DJANGO_MEDIA_ROOT"]
        assert _mounts(services[name]).get(root) == "media", name


def test_beats_schedule_is_in_its_state_folder_on_a_volume(services):
    beat = services["beat"]
    state = beat["environment"]["INSERVICE_STATE_DIR"]
    assert _mounts(beat).get(state) == "beatstate"
    assert not any(arg.startswith("--schedule") for arg in beat["command"])  # settings' state folder


def test_redis_keeps_the_queue_across_a_restart(services):
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert _mounts(redis).get("/data") == "redisdata"


def test_the_broker_can_be_rabbitmq_from_the_environment(tmp_path):
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=p\n")
    try:
        services = compose.config(tmp_path, {"CELERY_BROKER_URL": "amqp://u:p@rabbitmq:5672//"})["services"]
    except compose.ComposeMissing as missing:
        skip_or_fail(str(missing))
    assert services["worker"]["environment"]["CELERY_BROKER_URL"] == "amqp://u:p@rabbitmq:5672//"
    assert services["web"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
