"""One reaper for every background job (core.reaper; issue 17 point 5, issue 18 point 7): run by
Celery beat, not by page views; an attendance upload whose worker died becomes 中斷 with a message
and can be retried; a live one is left alone. The real kill -9 is in tests/integration."""

import contextlib
import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import reaper
from courses import services
from courses.models import AttendanceUpload, Course, CourseStatus, UploadStatus
from rewards.models import RewardRun, RunStatus
from rewards.services import REWARD_JOB
from tests.courses.conftest import course_fields
from tests.factories import BusinessAccountFactory, MembershipFactory, UserFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    from inservice.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def course(clerk, school):
    course = services.course_open(
        actor=clerk, course=services.course_register(actor=clerk, fields=course_fields(capacity=3))
    )
    teacher = UserFactory()
    MembershipFactory(person=teacher.person, unit=school)
    services.enrolment_enrol(actor=teacher, course=course)
    today = timezone.localdate()
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.CLOSED, start_date=today - dt.timedelta(days=1), end_date=today
    )
    course.refresh_from_db()
    course.teacher = teacher
    return course


def _file(course) -> bytes:
    nid = course.teacher.person.reveal_national_id()
    return f"national_id,hours\n{nid},6\n".encode()


def stranded(course, clerk, *, beat_minutes_ago=30) -> AttendanceUpload:
    """An upload a worker claimed (處理中（0%）) and then died on: nobody holds its lock."""
    return AttendanceUpload.objects.create(
        course=course,
        uploaded_by=clerk,
        filename="attendance.csv",
        content=_file(course),
        status=UploadStatus.RUNNING,
        progress=0,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=beat_minutes_ago),
    )


def test_every_job_kind_is_registered_and_the_reaper_is_on_the_beat(settings):
    keys = {kind.key for kind in reaper.kinds()}
    assert {"courses.attendance_upload", "rewards.reward_run"} <= keys
    entry = settings.CELERY_BEAT_SCHEDULE["reap-interrupted-jobs"]
    assert entry["task"] == reaper.reap_interrupted_jobs.name
    assert entry["schedule"] <= 60


def test_a_dead_workers_upload_becomes_interrupted_with_a_message(clerk, course):
    job = stranded(course, clerk)
    counts = reaper.reap_interrupted_jobs.delay().get()
    assert counts["courses.attendance_upload"] == 1
    job.refresh_from_db()
    assert job.status == UploadStatus.INTERRUPTED and job.get_status_display() == "中斷"
    assert job.finished_at is not None
    assert "工作程序中斷" in job.messages[0]
    page = signed_in_client(clerk).get(reverse("courses:upload-status", args=[course.pk, job.pk]))
    html = page.content.decode()
    assert "中斷（0%）" in html and "重新處理" in html
    assert 'http-equiv="refresh"' not in html  # the page no longer reloads for ever
    course.refresh_from_db()
    assert course.status == CourseStatus.CLOSED
    assert reaper.reap_all()["courses.attendance_upload"] == 0  # once


@contextlib.contextmanager
def a_worker_holding(job, lock_class=services.UPLOAD_LOCK_CLASS):
    """A worker's hold on `job` (its advisory lock), from another connection, while the block runs."""
    holding, release = threading.Event(), threading.Event()

    def worker():
        try:
            with reaper.held(lock_class, job.pk):
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert holding.wait(30)
    try:
        yield
    finally:
        release.set()
        thread.join(30)


def test_a_live_workers_upload_is_left_alone(clerk, course):
    job = stranded(course, clerk, beat_minutes_ago=0)
    if connection.vendor != "postgresql":
        assert reaper.reap(services.UPLOAD_JOB) == []  # fresh heartbeat
    else:
        # PostgreSQL: liveness is the worker's advisory lock, held here by another connection.
        with a_worker_holding(job):
            AttendanceUpload.objects.filter(pk=job.pk).update(
                heartbeat_at=timezone.now() - dt.timedelta(hours=1)
            )
            assert reaper.reap(services.UPLOAD_JOB) == []
    job.refresh_from_db()
    assert job.status == UploadStatus.RUNNING


def test_the_interrupted_upload_is_retried_and_completes(clerk, course, django_capture_on_commit_callbacks):
    job = stranded(course, clerk)
    reaper.reap_all()
    client = signed_in_client(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("courses:upload-retry", args=[course.pk, job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == UploadStatus.DONE and job.progress == 100
    assert bytes(job.content) == b""
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING
    assert course.enrolments.get().attended_hours == 6
    # Only an interrupted upload may be retried; a finished one stays as it is.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("courses:upload-retry", args=[course.pk, job.pk]))
    job.refresh_from_db()
    assert job.status == UploadStatus.DONE


def test_another_unit_cannot_retry(clerk, course, other_school):
    job = stranded(course, clerk)
    reaper.reap_all()
    outsider = BusinessAccountFactory(unit=other_school, type="clerk").user
    response = signed_in_client(outsider).post(reverse("courses:upload-retry", args=[course.pk, job.pk]))
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == UploadStatus.INTERRUPTED


def queued(course, clerk, *, minutes_ago, **fields) -> AttendanceUpload:
    """An upload 排隊中 since `minutes_ago` that no worker has taken (its task message lost)."""
    job = AttendanceUpload.objects.create(
        course=course, uploaded_by=clerk, filename="attendance.csv", content=_file(course), **fields
    )
    AttendanceUpload.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    return job


def test_a_queued_upload_no_worker_took_becomes_interrupted_after_the_timeout(clerk, course):
    assert services.UPLOAD_QUEUE_TIMEOUT == dt.timedelta(minutes=90)
    lost = queued(course, clerk, minutes_ago=91)
    waiting = queued(course, clerk, minutes_ago=5)
    counts = reaper.reap_interrupted_jobs.delay().get()
    assert counts["courses.attendance_upload"] == 1
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert waiting.status == UploadStatus.QUEUED
    assert lost.status == UploadStatus.INTERRUPTED and lost.finished_at is not None
    assert lost.messages == [
        "此上傳排隊超過 90 分鐘仍未開始處理（背景工作佇列可能已遺失），出席資料沒有寫入。"
        "請重新上傳檔案（或按「重新處理」）。"
    ]
    html = signed_in_client(clerk).get(reverse("courses:upload-status", args=[course.pk, lost.pk])).content
    assert "請重新上傳檔案" in html.decode() and 'http-equiv="refresh"' not in html.decode()
    course.refresh_from_db()
    assert course.status == CourseStatus.CLOSED and course.enrolments.get().attended_hours is None
    # The task message arriving late finds nothing to claim: the upload stays 中斷, nothing written.
    services.attendance_upload_process(lost.pk)
    lost.refresh_from_db()
    assert lost.status == UploadStatus.INTERRUPTED
    assert course.enrolments.get().attended_hours is None


def test_a_retried_upload_waits_from_its_retry_not_from_its_upload(clerk, course):
    retried = queued(course, clerk, minutes_ago=180, heartbeat_at=timezone.now() - dt.timedelta(minutes=2))
    assert reaper.reap_lost(services.UPLOAD_JOB) == []
    retried.refresh_from_db()
    assert retried.status == UploadStatus.QUEUED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks")
def test_a_queued_upload_a_worker_is_claiming_is_left_alone(clerk, course):
    job = queued(course, clerk, minutes_ago=120)
    with a_worker_holding(job):
        assert reaper.reap_lost(services.UPLOAD_JOB) == []
    job.refresh_from_db()
    assert job.status == UploadStatus.QUEUED


def test_upload_status_page_view_does_not_reap(clerk, course):
    job = stranded(course, clerk)
    signed_in_client(clerk).get(reverse("courses:upload-status", args=[course.pk, job.pk]))
    job.refresh_from_db()
    assert job.status == UploadStatus.RUNNING


def test_reward_runs_are_reaped_by_the_same_reaper_not_by_the_operators_page(operator, monkeypatch):
    orphan = RewardRun.objects.create(year=113, status=RunStatus.RUNNING, class_width=1)
    kind = reaper.JobKind(**{**REWARD_JOB.__dict__, "alive": lambda run: False})
    monkeypatch.setitem(reaper.JOBS._impls, REWARD_JOB.key, kind)
    assert signed_in_client(operator).get(reverse("rewards:job")).status_code == 200
    orphan.refresh_from_db()
    assert orphan.status == RunStatus.RUNNING  # a page view reaps nothing
    assert reaper.reap_all()["rewards.reward_run"] == 1
    orphan.refresh_from_db()
    assert orphan.status == RunStatus.INTERRUPTED and orphan.get_status_display() == "中斷"
