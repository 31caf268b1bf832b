"""Hours only for a course that has happened (issue 18 point 2): attendance upload and
名單確認通過 are refused before the course's last day, the message naming that day in ROC."""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.roc import format_roc_date
from courses import services
from courses.models import AttendanceUpload, Course, CourseStatus, IssuedHours
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def _ahead(make_course, make_teacher, status, *, last_day):
    course = make_course(capacity=2)
    teacher = make_teacher()
    services.enrolment_enrol(actor=teacher, course=course)
    Course.objects.filter(pk=course.pk).update(status=status, start_date=last_day, end_date=last_day)
    course.enrolments.update(attended_hours=6)
    course.refresh_from_db()
    return course


def _csv():
    return SimpleUploadedFile("a.csv", b"national_id,hours\n", content_type="text/csv")


def test_confirm_two_weeks_ahead_is_refused_with_the_roc_date(clerk, make_course, make_teacher):
    last_day = timezone.localdate() + dt.timedelta(days=14)
    course = _ahead(make_course, make_teacher, CourseStatus.PENDING, last_day=last_day)
    with pytest.raises(services.CourseError) as refused:
        services.course_confirm(actor=clerk, course=course)
    assert format_roc_date(last_day) in refused.value.message
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING and course.confirmed_at is None
    assert not IssuedHours.objects.exists()


def test_confirm_screen_says_why_and_issues_nothing(clerk, make_course, make_teacher):
    last_day = timezone.localdate() + dt.timedelta(days=1)
    course = _ahead(make_course, make_teacher, CourseStatus.PENDING, last_day=last_day)
    client = signed_in_client(clerk)
    response = client.post(reverse("courses:transition", args=[course.pk, "confirm"]))
    assert response.status_code == 409
    assert format_roc_date(last_day) in response.content.decode()
    assert not IssuedHours.objects.exists()
    page = client.get(reverse("courses:manage-detail", args=[course.pk])).content.decode()
    assert f"課程最後一天（{format_roc_date(last_day)}）起" in page


def test_confirm_on_the_last_day_itself_is_allowed(clerk, make_course, make_teacher):
    course = _ahead(make_course, make_teacher, CourseStatus.PENDING, last_day=timezone.localdate())
    assert services.course_confirm(actor=clerk, course=course) == 1
    assert IssuedHours.objects.get(course=course).date == timezone.localdate()


def test_upload_before_the_last_day_is_refused_and_stores_nothing(clerk, make_course, make_teacher):
    last_day = timezone.localdate() + dt.timedelta(days=3)
    course = _ahead(make_course, make_teacher, CourseStatus.CLOSED, last_day=last_day)
    response = signed_in_client(clerk).post(reverse("courses:upload", args=[course.pk]), {"file": _csv()})
    assert response.status_code == 409
    assert format_roc_date(last_day) in response.content.decode()
    assert not AttendanceUpload.objects.exists()
    with pytest.raises(services.CourseError):
        services.attendance_upload_create(actor=clerk, course=course, filename="a.csv", content=b"")
    assert not AttendanceUpload.objects.exists()


def test_the_day_is_taipeis_not_utcs(make_course, make_teacher):
    """At 00:30 in Taipei (16:30 UTC the day before) the course's last day has begun."""
    last_day = dt.date(2026, 3, 10)
    course = _ahead(make_course, make_teacher, CourseStatus.PENDING, last_day=last_day)
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 3, 9, 16, 30, tzinfo=dt.UTC)):
        assert services.course_has_ended(course)
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 3, 9, 15, 30, tzinfo=dt.UTC)):
        assert not services.course_has_ended(course)
