import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from courses import services
from courses.choices import Admission, Domain
from courses.models import Course, CourseStatus, Enrolment, EnrolmentStatus
from tests.factories import MembershipFactory, UserFactory


def course_fields(**overrides) -> dict:
    today = timezone.localdate()
    now = timezone.now()
    fields = {
        "title": "校園安全教育研習",
        "start_date": today + dt.timedelta(days=10),
        "end_date": today + dt.timedelta(days=11),
        "hours": Decimal("6"),
        "place": "視聽教室",
        "domain": Domain.LITERACY,
        "capacity": 2,
        "enrol_opens_at": now - dt.timedelta(hours=1),
        "enrol_closes_at": now + dt.timedelta(days=5),
        "admission": Admission.FIRST_COME,
    }
    fields.update(overrides)
    return fields


def admitted(course, person, hours="6") -> Enrolment:
    """An admitted enrolment with its attendance recorded (the state a confirmed list holds)."""
    now = timezone.now()
    return Enrolment.objects.create(
        course=course,
        person=person,
        status=EnrolmentStatus.ADMITTED,
        applied_at=now,
        admitted_at=now,
        attended_hours=Decimal(hours),
    )


@pytest.fixture
def make_course(clerk):
    def make(status=CourseStatus.OPEN, actor=None, **overrides) -> Course:
        course = services.course_register(actor=actor or clerk, fields=course_fields(**overrides))
        if status != CourseStatus.REGISTERING:
            course = services.course_open(actor=actor or clerk, course=course)
        if status not in (CourseStatus.REGISTERING, CourseStatus.OPEN):
            Course.objects.filter(pk=course.pk).update(status=status)
            course.refresh_from_db()
        return course

    return make


@pytest.fixture
def make_teacher(school):
    def make(unit=None):
        user = UserFactory()
        MembershipFactory(person=user.person, unit=unit or school)
        return user

    return make


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Course tasks run in the test's process, with Redis or without (the worker has its own test)."""
    from inservice.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
