"""批次上傳 under the one reaper (core.reaper; issue 17): a roster upload whose worker died, or whose
task message was lost (等待處理 past reaper.UPLOAD_QUEUE_TIMEOUT), becomes 中斷 with a message telling
the school to upload again, and its file (national IDs) is deleted at once. The real kill -9 is in
tests/integration/test_roster_upload_worker.py."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import reaper
from teachers import batch
from teachers.models import Membership, RosterUpload, UploadStatus
from tests.core.test_reaper import a_worker_holding
from tests.factories import valid_national_id
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.ROSTER_UPLOAD_DIR = str(tmp_path)
    return tmp_path


def stored_upload(chief, school, upload_dir, *, status, minutes_ago=0) -> RosterUpload:
    """An upload whose file is kept, as roster_upload_submit leaves it."""
    path = upload_dir / f"roster-{status}-{minutes_ago}.csv"
    path.write_text(
        "national_id,name,email,unit_code,category,title,subjects,start_date,end_date\n"
        f"{valid_national_id(9101)},新進教師,,{school.code},教師,教師,,2024-08-01,\n"
    )
    upload = RosterUpload.objects.create(
        unit=school, actor=chief, file_name="roster.csv", stored_path=str(path), status=status
    )
    RosterUpload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    upload.refresh_from_db()
    return upload


def test_the_roster_upload_is_a_kind_of_the_one_reaper():
    kind = next(kind for kind in reaper.kinds() if kind.key == "teachers.roster_upload")
    assert kind is batch.ROSTER_UPLOAD_JOB
    assert kind.queued_timeout == reaper.UPLOAD_QUEUE_TIMEOUT == dt.timedelta(minutes=90)
    assert UploadStatus.INTERRUPTED.label == "中斷"


def test_an_upload_queued_too_long_becomes_interrupted_and_its_file_is_deleted(chief, school, upload_dir):
    lost = stored_upload(chief, school, upload_dir, status=UploadStatus.QUEUED, minutes_ago=91)
    waiting = stored_upload(chief, school, upload_dir, status=UploadStatus.QUEUED, minutes_ago=5)
    lost_file = lost.stored_path
    assert reaper.reap_all()["teachers.roster_upload"] == 1
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert waiting.status == UploadStatus.QUEUED and waiting.stored_path
    assert lost.status == UploadStatus.INTERRUPTED and lost.get_status_display() == "中斷"
    assert lost.finished_at is not None and lost.stored_path == ""
    assert lost.messages == [
        "此上傳排隊超過 90 分鐘仍未開始處理（背景工作佇列可能已遺失），名單沒有寫入任何資料；"
        "上傳的檔案已刪除，請重新上傳檔案。"
    ]
    assert [p.name for p in upload_dir.iterdir()] == [waiting.stored_path.rsplit("/", 1)[-1]]
    assert lost_file not in {str(p) for p in upload_dir.iterdir()}
    # The school's pages: 中斷, the message, a link to upload again, no endless reload.
    client = signed_in_client(chief)
    html = client.get(reverse("teachers:upload-status", args=[lost.pk])).content.decode()
    assert "中斷" in html and "請重新上傳檔案" in html and 'http-equiv="refresh"' not in html
    assert reverse("teachers:upload") in html
    assert "中斷" in client.get(reverse("teachers:upload")).content.decode()
    # The task message arriving late finds nothing to claim: still 中斷, nothing written.
    batch.roster_upload_process(lost.pk)
    lost.refresh_from_db()
    assert lost.status == UploadStatus.INTERRUPTED
    assert not Membership.objects.filter(unit=school, person__name="新進教師").exists()
    assert reaper.reap_all()["teachers.roster_upload"] == 0  # once


def test_a_page_view_reaps_nothing(chief, school, upload_dir):
    lost = stored_upload(chief, school, upload_dir, status=UploadStatus.QUEUED, minutes_ago=120)
    signed_in_client(chief).get(reverse("teachers:upload-status", args=[lost.pk]))
    lost.refresh_from_db()
    assert lost.status == UploadStatus.QUEUED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks")
def test_a_running_upload_whose_worker_is_gone_becomes_interrupted(chief, school, upload_dir):
    orphan = stored_upload(chief, school, upload_dir, status=UploadStatus.RUNNING)
    live = stored_upload(chief, school, upload_dir, status=UploadStatus.RUNNING, minutes_ago=1)
    with a_worker_holding(live, batch.ROSTER_UPLOAD_LOCK_CLASS):
        assert reaper.reap(batch.ROSTER_UPLOAD_JOB) == [orphan]
    orphan.refresh_from_db()
    live.refresh_from_db()
    assert live.status == UploadStatus.RUNNING and live.stored_path
    assert orphan.status == UploadStatus.INTERRUPTED and orphan.stored_path == ""
    assert "工作程序中斷" in orphan.messages[0] and "請重新上傳檔案" in orphan.messages[0]
    assert len(list(upload_dir.iterdir())) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks")
def test_a_queued_upload_a_worker_is_claiming_is_left_alone(chief, school, upload_dir):
    upload = stored_upload(chief, school, upload_dir, status=UploadStatus.QUEUED, minutes_ago=120)
    with a_worker_holding(upload, batch.ROSTER_UPLOAD_LOCK_CLASS):
        assert reaper.reap_lost(batch.ROSTER_UPLOAD_JOB) == []
    upload.refresh_from_db()
    assert upload.status == UploadStatus.QUEUED
