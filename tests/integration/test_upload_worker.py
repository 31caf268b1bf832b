"""An attendance upload whose real Celery worker is killed (SIGKILL) mid-upload (issue 18 point 7).

The worker claims the upload (處理中（0%）) and is killed; the reaper's beat task, run by another
real worker through Redis, marks it 中斷 with a message; the clerk retries and it completes.
Skipped (failed in CI) without Redis and PostgreSQL.
"""

import datetime as dt
import os
import signal

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django.utils import timezone

from core import reaper
from courses import services, tasks
from courses.models import AttendanceUpload, Course, CourseStatus, UploadStatus
from tests.courses.conftest import course_fields
from tests.factories import BusinessAccountFactory, MembershipFactory, SchoolFactory, UserFactory
from tests.integration.workers import task_on_own_queue, wait, workers_on

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(services_up, monkeypatch):
    """A queue of this test's own; the upload task is sent there."""
    return task_on_own_queue(monkeypatch, tasks.process_attendance_upload, "uploads")


@pytest.fixture
def start_worker(worker_queue):
    with workers_on(worker_queue) as start:
        yield start


def test_a_killed_worker_leaves_the_upload_interrupted_and_it_can_be_retried(start_worker, worker_queue):
    school = SchoolFactory()
    clerk = BusinessAccountFactory(unit=school, type="clerk").user
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
    content = f"national_id,hours\n{teacher.person.reveal_national_id()},6\n".encode()

    doomed_worker = start_worker(INSERVICE_UPLOAD_PAUSE_SECONDS="300")
    upload = services.attendance_upload_create(
        actor=clerk, course=course, filename="attendance.csv", content=content
    )
    wait(
        lambda: AttendanceUpload.objects.get(pk=upload.pk).status == UploadStatus.RUNNING,
        what="the worker to claim the upload",
    )
    # While the worker lives, the reaper leaves it alone (it holds the upload's lock).
    assert reaper.reap(services.UPLOAD_JOB) == []

    os.kill(doomed_worker.pid, signal.SIGKILL)
    doomed_worker.wait(timeout=30)
    stuck = AttendanceUpload.objects.get(pk=upload.pk)
    assert (stuck.status, stuck.progress) == (UploadStatus.RUNNING, 0)  # 處理中（0%）

    # The beat's task, on a real worker through Redis, finds the orphan.
    start_worker()

    def reaped():
        try:  # a worker starting on a busy machine may take a while to answer
            reaper.reap_interrupted_jobs.apply_async(queue=worker_queue).get(timeout=30)
        except CeleryTimeout:
            return False
        return AttendanceUpload.objects.get(pk=upload.pk).status == UploadStatus.INTERRUPTED

    wait(reaped, timeout=240, what="the dead upload to be reaped")
    stuck.refresh_from_db()
    assert stuck.get_status_display() == "中斷"
    assert "工作程序中斷" in stuck.messages[0]
    assert Course.objects.get(pk=course.pk).status == CourseStatus.CLOSED  # nothing written

    services.attendance_upload_retry(actor=clerk, course=course, upload=stuck)
    wait(
        lambda: AttendanceUpload.objects.get(pk=upload.pk).status == UploadStatus.DONE,
        timeout=240,
        what="the retried upload to complete",
    )
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING
    assert course.enrolments.get().attended_hours == 6
