"""The operator's national reward list written by a real Celery worker (issue 17 point 5).

The web process queues the export; a worker in another process, sharing only the database and the
media root, writes the encrypted file; the operator's link decrypts it. A worker killed while it
holds an export leaves it 中斷 through the one reaper. Skipped (failed in CI) without Redis and
PostgreSQL.
"""

import os
import signal

import pytest
from django.urls import reverse

from core import reaper
from core.exports import ExportStatus
from rewards import services
from rewards.models import ListExport
from tests.helpers import signed_in_client
from tests.integration.workers import own_queue, wait, workers_on
from tests.rewards.conftest import (
    YEAR,
    ensure_pingtung_113,
    give_hours,
    run_job,
    school_in,
    teacher_in,
    teacher_plan,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def start_worker(services_up, settings, tmp_path):
    """A real worker on a queue of its own, with the web side's media root."""
    queue = own_queue("exports")
    settings.REWARDS_QUEUE = queue
    settings.MEDIA_ROOT = tmp_path
    settings.TRANSIENT_ROOT = tmp_path / "transient"
    with workers_on(queue) as start:
        yield lambda **env: start(DJANGO_MEDIA_ROOT=str(tmp_path), **env)


@pytest.fixture
def published(db):
    school = school_in(ensure_pingtung_113())
    people = [teacher_in(school) for _ in range(3)]
    for person, hours in zip(people, (2, 4, 9), strict=True):
        give_hours(person, hours)
        teacher_plan(person)
    run_job()
    return people


def _settled(export_id):
    export = ListExport.objects.get(pk=export_id)
    return export if not export.is_active else None


def test_a_worker_writes_the_national_list_encrypted_and_its_requester_downloads_it(
    start_worker, published, operator
):
    worker = start_worker()
    client = signed_in_client(operator)
    client.post(reverse("rewards:export-request"), {"year": YEAR, "format": "csv", "list": "teachers"})
    export = wait(lambda: _settled(ListExport.objects.get().pk), what="the worker to write the export")
    assert export.status == ExportStatus.READY, export.error
    assert worker.poll() is None  # written by the worker, not in this process
    stored = export.path.read_bytes()
    ids = [person.reveal_national_id() for person in published]
    assert stored and not any(number.encode() in stored for number in ids)
    body = b"".join(client.get(reverse("rewards:export-file", args=[export.pk])).streaming_content)
    assert all(number in body.decode("utf-8-sig") for number in ids)


def test_a_killed_worker_leaves_the_export_interrupted(start_worker, published, operator):
    doomed = start_worker(INSERVICE_EXPORTS_PAUSE="120")
    signed_in_client(operator).post(
        reverse("rewards:export-request"), {"year": YEAR, "format": "xlsx", "list": "teachers"}
    )
    export = ListExport.objects.get()
    wait(lambda: ListExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).exists(),
          what="the worker to take the export")  # fmt: skip
    assert reaper.reap(services.LIST_EXPORT_JOB) == []  # its worker holds the lock
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    wait(lambda: reaper.reap(services.LIST_EXPORT_JOB), timeout=30, what="the dead export to be reaped")
    export.refresh_from_db()
    assert export.status == ExportStatus.INTERRUPTED and export.get_status_display() == "中斷"
