"""A school's 批次上傳 whose real Celery worker is killed (SIGKILL) mid-import (issue 17).

The worker claims the upload (檢查與匯入中) and is killed; the reaper's beat task, run by another
real worker through Redis, marks it 中斷 with a message telling the school to upload again and
deletes the uploaded file (it carries national IDs); nothing was written; the school uploads the
file again and it is imported. Skipped (failed in CI) without Redis and PostgreSQL.
"""

import os
import signal
from pathlib import Path

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.files.uploadedfile import SimpleUploadedFile

from core import reaper
from teachers import batch, tasks
from teachers.models import Membership, RosterUpload, UploadStatus
from tests.factories import BusinessAccountFactory, SchoolFactory, valid_national_id
from tests.integration.workers import task_on_own_queue, wait, workers_on

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(services_up, monkeypatch, settings, tmp_path):
    """A queue of this test's own (the upload task is sent there); files in this test's folder."""
    settings.ROSTER_UPLOAD_DIR = str(tmp_path)
    return task_on_own_queue(monkeypatch, tasks.import_roster_upload, "roster")


@pytest.fixture
def start_worker(worker_queue):
    with workers_on(worker_queue) as start:
        yield start


def _file(school) -> SimpleUploadedFile:
    content = (
        "national_id,name,email,unit_code,category,title,subjects,start_date,end_date\n"
        f"{valid_national_id(9201)},新進教師,,{school.code},教師,教師,,2024-08-01,\n"
    )
    return SimpleUploadedFile("roster.csv", content.encode(), content_type="text/csv")


def test_a_killed_worker_leaves_the_roster_upload_interrupted_and_its_file_deleted(
    start_worker, worker_queue
):
    school = SchoolFactory()
    chief = BusinessAccountFactory(unit=school, type="chief").user

    doomed_worker = start_worker(INSERVICE_UPLOAD_PAUSE_SECONDS="300")
    upload = batch.roster_upload_submit(actor=chief, unit=school, uploaded=_file(school))
    stored = Path(upload.stored_path)
    assert stored.is_file()
    wait(
        lambda: RosterUpload.objects.get(pk=upload.pk).status == UploadStatus.RUNNING,
        what="the worker to claim the upload",
    )
    # While the worker lives, the reaper leaves it alone (it holds the upload's lock).
    assert reaper.reap(batch.ROSTER_UPLOAD_JOB) == []

    os.kill(doomed_worker.pid, signal.SIGKILL)
    doomed_worker.wait(timeout=30)
    assert RosterUpload.objects.get(pk=upload.pk).status == UploadStatus.RUNNING
    assert stored.is_file()

    # The beat's task, on a real worker through Redis, finds the orphan.
    start_worker()

    def reaped():
        try:  # a worker starting on a busy machine may take a while to answer
            reaper.reap_interrupted_jobs.apply_async(queue=worker_queue).get(timeout=30)
        except CeleryTimeout:
            return False
        return RosterUpload.objects.get(pk=upload.pk).status == UploadStatus.INTERRUPTED

    wait(reaped, timeout=240, what="the dead upload to be reaped")
    upload.refresh_from_db()
    assert upload.get_status_display() == "中斷"
    assert "工作程序中斷" in upload.messages[0] and "請重新上傳檔案" in upload.messages[0]
    assert upload.stored_path == "" and not stored.exists()  # the national IDs are gone
    assert not Membership.objects.filter(unit=school).exists()  # nothing written

    # The school uploads the file again; the live worker imports it.
    again = batch.roster_upload_submit(actor=chief, unit=school, uploaded=_file(school))
    wait(
        lambda: RosterUpload.objects.get(pk=again.pk).status == UploadStatus.DONE,
        timeout=240,
        what="the new upload to complete",
    )
    assert Membership.objects.filter(unit=school, person__name="新進教師").count() == 1
