"""研習課程登錄 and the course states (issue 11 points 1 and 4): allowed to the course's unit only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from courses import services
from courses.models import Course, CourseStatus, IssuedHours
from tests.courses.conftest import course_fields
from tests.factories import BusinessAccountFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def test_registered_course_has_no_public_code_until_opened(clerk, make_course):
    course = make_course(status=CourseStatus.REGISTERING)
    assert course.code is None and course.status == CourseStatus.REGISTERING
    assert course.authority_id == course.organiser.authority_id
    opened = services.course_open(actor=clerk, course=course)
    assert opened.status == CourseStatus.OPEN
    assert opened.code.startswith(str(timezone.localdate().year - 1911))


def test_opened_courses_get_distinct_sequential_codes(make_course):
    codes = [make_course().code for _ in range(3)]
    assert len(set(codes)) == 3 and codes == sorted(codes)


def test_code_skips_a_number_an_imported_course_holds(make_course, school):
    year = timezone.localdate().year - 1911
    Course.objects.create(code=f"{year}000001", title="匯入", organiser=school, status=CourseStatus.CONFIRMED)
    assert make_course().code == f"{year}000002"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_date": timezone.localdate()}, "end_date"),  # before start
        ({"hours": Decimal("0")}, "hours"),
        ({"hours": Decimal("20.5")}, "hours"),  # two days hold at most 20 hours
        ({"capacity": 0}, "capacity"),
        ({"enrol_closes_at": timezone.now() + dt.timedelta(days=30)}, "enrol_closes_at"),  # after the course
    ],
)
def test_registration_refuses_implausible_courses(clerk, overrides, field):
    with pytest.raises(ValidationError) as refused:
        services.course_register(actor=clerk, fields=course_fields(**overrides))
    assert field in refused.value.message_dict
    assert not Course.objects.exists()


def test_database_refuses_unknown_status_and_end_before_start(school):
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(code="X1", title="t", organiser=school, status="draft")
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(
            code="X2",
            title="t",
            organiser=school,
            start_date=dt.date(2024, 9, 2),
            end_date=dt.date(2024, 9, 1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        IssuedHours.objects.create(
            person=BusinessAccountFactory().person,
            course=Course.objects.create(code="X3", title="t", organiser=school),
            date=dt.date(2024, 9, 1),
            hours=1,
            source="elsewhere",
        )


def test_every_business_account_of_the_unit_may_register(contact, chief, clerk):
    for actor in (contact, chief, clerk):
        services.course_register(actor=actor, fields=course_fields())
    assert Course.objects.count() == 3


def test_teacher_may_not_register(teacher):
    response = signed_in_client(teacher).get(reverse("courses:register"))
    assert response.status_code == 403


def test_register_screen_creates_a_course_in_registering(clerk):
    now = timezone.localtime()
    data = {
        "title": "性別平等教育研習",
        "start_date": (now + dt.timedelta(days=10)).date().isoformat(),
        "end_date": (now + dt.timedelta(days=10)).date().isoformat(),
        "hours": "3",
        "place": "禮堂",
        "mode": "hours",
        "domain": "policy",
        "capacity": "30",
        "enrol_opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "enrol_closes_at": (now + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "admission": "first_come",
    }
    response = signed_in_client(clerk).post(reverse("courses:register"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    course = Course.objects.get()
    assert course.status == CourseStatus.REGISTERING
    assert course.audience_stages.count() == 6  # none chosen: every stage


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("open", CourseStatus.REGISTERING, CourseStatus.OPEN),
        ("close", CourseStatus.OPEN, CourseStatus.CLOSED),
        ("cancel", CourseStatus.OPEN, CourseStatus.CANCELLED),
        ("cancel", CourseStatus.PENDING, CourseStatus.CANCELLED),
    ],
)
def test_unit_changes_state(clerk, make_course, action, before, after):
    course = make_course(status=before)
    response = signed_in_client(clerk).post(reverse("courses:transition", args=[course.pk, action]))
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == after


@pytest.mark.parametrize(
    ("action", "before"),
    [
        ("open", CourseStatus.OPEN),
        ("close", CourseStatus.REGISTERING),
        ("close", CourseStatus.PENDING),
        ("confirm", CourseStatus.OPEN),
        ("confirm", CourseStatus.CLOSED),
        ("cancel", CourseStatus.CONFIRMED),
        ("cancel", CourseStatus.CANCELLED),
    ],
)
def test_state_change_out_of_order_is_refused(clerk, make_course, action, before):
    course = make_course(status=before)
    response = signed_in_client(clerk).post(reverse("courses:transition", args=[course.pk, action]))
    assert response.status_code == 409
    course.refresh_from_db()
    assert course.status == before


@pytest.mark.parametrize("action", ["open", "close", "cancel", "confirm"])
def test_another_units_course_answers_404_and_nothing_changes(make_course, actors, action):
    course = make_course(status=CourseStatus.REGISTERING if action == "open" else CourseStatus.OPEN)
    outsider = actors("clerk").outsider
    client = signed_in_client(outsider)
    assert client.post(reverse("courses:transition", args=[course.pk, action])).status_code == 404
    assert client.get(reverse("courses:manage-detail", args=[course.pk])).status_code == 404
    assert client.get(reverse("courses:participants-xlsx", args=[course.pk])).status_code == 404
    before = course.status
    course.refresh_from_db()
    assert course.status == before


def test_centre_cannot_change_a_schools_course(make_course, centre):
    course = make_course()
    with pytest.raises(services.CourseError):
        services.course_close_enrolment(actor=centre, course=course)
    course.refresh_from_db()
    assert course.status == CourseStatus.OPEN


def test_cancelled_course_tells_its_enrolled_teachers(
    clerk, make_course, make_teacher, mailoutbox, django_capture_on_commit_callbacks
):
    course = make_course(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_enrol(actor=make_teacher(), course=course)
        services.enrolment_enrol(actor=make_teacher(), course=course)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.course_cancel(actor=clerk, course=course)
    assert len(mailoutbox) == 2
    assert all("課程取消通知" in message.subject for message in mailoutbox)


def test_deletion_guard_counts_real_unfinished_courses(clerk, make_course):
    from accounts.deletion_guards import unfinished_work

    course = make_course()
    assert unfinished_work(clerk.business_account) == [f"{course.code} {course.title}（開放報名）"]
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.CONFIRMED)
    assert unfinished_work(clerk.business_account) == []


def test_screens_answer_only_to_those_entitled(teacher, centre, clerk, make_course):
    course = make_course()
    assert signed_in_client(teacher).get(reverse("courses:manage")).status_code == 403
    assert signed_in_client(centre).get(reverse("courses:register")).status_code == 403
    assert signed_in_client(centre).get(reverse("courses:manage-detail", args=[course.pk])).status_code == 403
    assert signed_in_client(clerk).get(reverse("courses:corrections")).status_code == 403
    assert signed_in_client(clerk).get(reverse("courses:manage")).status_code == 200
    assert course.title in signed_in_client(clerk).get(reverse("courses:manage")).content.decode()


def test_edit_allowed_while_open_and_refused_after_closing(clerk, make_course):
    course = make_course()
    services.course_update(actor=clerk, course=course, fields={"title": "新名稱"})
    course.refresh_from_db()
    assert course.title == "新名稱"
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.CLOSED)
    with pytest.raises(services.CourseError):
        services.course_update(actor=clerk, course=course, fields={"title": "再改"})
    course.refresh_from_db()
    assert course.title == "新名稱"
