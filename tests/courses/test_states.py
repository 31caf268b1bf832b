"""The course state machine (courses.states, issue 17 point 3): one table read by the services and the page.

Each action is tried from each state: the service refuses it with 409 `wrong_state` exactly when the
table does not allow it, and changes nothing; the 研習課程管理 page shows the action's link exactly
when the table allows it.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.refusals import Kind, Refused
from courses import checkin, services, states
from courses.choices import Admission
from courses.models import Course, CourseStatus, Enrolment, EnrolmentStatus
from tests.courses.conftest import admitted
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db

S = CourseStatus
ALL = set(S.values)

# SPEC §5's machine, written out: the table must say this.
EXPECTED = {
    "edit": {S.REGISTERING, S.OPEN},
    "open": {S.REGISTERING},
    "admit": {S.OPEN, S.CLOSED},
    "close": {S.OPEN},
    "upload": {S.CLOSED, S.PENDING},
    "confirm": {S.PENDING},
    "cancel": ALL - {S.CONFIRMED, S.CANCELLED},
    "correct": {S.CONFIRMED},
    "decline": {S.OPEN, S.CLOSED},
    "session_edit": ALL - {S.CONFIRMED, S.CANCELLED},
    "checkin": {S.OPEN, S.CLOSED, S.PENDING},
    "sessions": ALL - {S.CANCELLED},
    "checkins": ALL - {S.REGISTERING, S.CANCELLED},
    "feedback": ALL - {S.CANCELLED},
    "partner_hours": ALL - {S.REGISTERING, S.CANCELLED},
}


def test_the_table_is_spec_5_s_machine():
    assert {name: set(action.from_states) for name, action in states.ACTIONS.items()} == EXPECTED
    assert {name: a.to_state for name, a in states.ACTIONS.items() if a.to_state} == {
        "open": S.OPEN,
        "close": S.CLOSED,
        "upload": S.PENDING,
        "confirm": S.CONFIRMED,
        "cancel": S.CANCELLED,
    }


@pytest.fixture
def course_in(clerk, make_course, make_teacher):
    """A course of the clerk's unit in `status`, its last day past (the services' other rules pass
    where they can): one admitted teacher with attendance, one applicant when it admits by review."""

    def make(status, admission=Admission.FIRST_COME):
        course = make_course(status=S.REGISTERING, admission=admission)
        teacher = make_teacher()
        admitted(course, teacher.person)
        applicant = Enrolment.objects.create(
            course=course,
            person=make_teacher().person,
            status=EnrolmentStatus.APPLIED,
            applied_at=timezone.now(),
        )
        past = timezone.localdate() - dt.timedelta(days=1)
        Course.objects.filter(pk=course.pk).update(status=status, start_date=past, end_date=past)
        course.refresh_from_db()
        return course, teacher, applicant

    return make


def _attempts(clerk, course, teacher, applicant):
    """Each action's service, called as the course's unit (decline as the admitted teacher)."""
    enrolment = course.enrolments.get(person=teacher.person)
    return {
        "edit": lambda: services.course_update(
            actor=clerk, course=course, fields={"title": "改名"}, stages=(), tags=(), authorities=()
        ),
        "open": lambda: services.course_open(actor=clerk, course=course),
        "admit": lambda: services.course_announce_admission(
            actor=clerk, course=course, enrolment_ids=[applicant.pk]
        ),
        "close": lambda: services.course_close_enrolment(actor=clerk, course=course),
        "upload": lambda: services.attendance_upload_create(
            actor=clerk, course=course, filename="a.csv", content=b"x"
        ),
        "confirm": lambda: services.course_confirm(actor=clerk, course=course),
        "cancel": lambda: services.course_cancel(actor=clerk, course=course),
        "correct": lambda: services.correction_request(
            actor=clerk, course=course, enrolment=enrolment, hours_after=Decimal("3"), reason="早退"
        ),
        "decline": lambda: services.enrolment_decline(actor=teacher, course=course),
    }


CHECK_IN_ROWS = ("checkin", "session_edit", "sessions", "checkins")  # courses.checkin's own tests
# 研習回饋問卷: tests/courses/test_feedback.py; partner hours: tests/courses/test_partner_api_rules.py
OWN_TESTS = (*CHECK_IN_ROWS, "feedback", "partner_hours")


def test_check_in_reads_the_table():
    """場次 and 報到 (courses.checkin, its own tests try each state) run from the table's states."""
    assert checkin.CHECKIN_STATES is states.ACTIONS["checkin"].from_states
    assert checkin.SESSION_EDIT_STATES is states.ACTIONS["session_edit"].from_states
    assert checkin.ATTENDANCE_STATES is states.ACTIONS["upload"].from_states


@pytest.mark.parametrize("status", S.values)
@pytest.mark.parametrize("action", [name for name in states.ACTIONS if name not in OWN_TESTS])
def test_each_action_runs_from_the_table_s_states_only(clerk, course_in, status, action, monkeypatch):
    monkeypatch.setattr(services, "_after_commit", lambda *args: None)  # no mail, no upload task
    course, teacher, applicant = course_in(status, admission=Admission.REVIEW)
    if action == "decline":  # 放棄錄取 is before the first day: only the state can refuse it
        Course.objects.filter(pk=course.pk).update(start_date=None)
    attempt = _attempts(clerk, course, teacher, applicant)[action]
    if status in EXPECTED[action]:
        try:
            attempt()
        except Refused as refused:  # another rule of the action may refuse, never the state
            assert refused.code != "wrong_state", (action, status, refused.message)
        except ValidationError:  # the edited course's own checks (its past dates)
            pass
    else:
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.code == "wrong_state" and refused.value.kind == Kind.CONFLICT
        assert refused.value.status == 409
        label = CourseStatus(status).label
        assert str(refused.value.message) == f"課程目前為「{label}」，不能執行此作業。"
        course.refresh_from_db()
        assert course.status == status and course.title == "校園安全教育研習"


LINKS = {
    "edit": lambda course: reverse("courses:edit", args=[course.pk]),
    "open": lambda course: reverse("courses:transition", args=[course.pk, "open"]),
    "close": lambda course: reverse("courses:transition", args=[course.pk, "close"]),
    "upload": lambda course: reverse("courses:upload", args=[course.pk]),
    "confirm": lambda course: reverse("courses:transition", args=[course.pk, "confirm"]),
    "cancel": lambda course: reverse("courses:transition", args=[course.pk, "cancel"]),
    "correct": lambda course: reverse(
        "courses:correction-new", args=[course.pk, course.enrolments.get(status=EnrolmentStatus.ADMITTED).pk]
    ),
    "admit": lambda course: reverse("courses:admit", args=[course.pk]),
    "checkin": lambda course: reverse("courses:checkin", args=[course.pk]),
    "sessions": lambda course: reverse("courses:sessions", args=[course.pk]),
    "checkins": lambda course: reverse("courses:checkins", args=[course.pk]),
}


@pytest.mark.parametrize("status", S.values)
def test_the_management_page_offers_an_action_exactly_when_the_table_allows_it(clerk, course_in, status):
    course, _teacher, _applicant = course_in(status, admission=Admission.REVIEW)
    html = signed_in_client(clerk).get(reverse("courses:manage-detail", args=[course.pk])).content.decode()
    for action, link in LINKS.items():
        shown = f'href="{link(course)}"' in html
        assert shown == (status in EXPECTED[action]), (action, status)


@pytest.mark.parametrize("status", S.values)
def test_the_transition_page_refuses_a_wrong_state_with_409(clerk, course_in, status):
    course, _teacher, _applicant = course_in(status)
    response = signed_in_client(clerk).post(reverse("courses:transition", args=[course.pk, "close"]))
    if status in EXPECTED["close"]:
        assert response.status_code == 302
    else:
        assert response.status_code == 409
        assert f"課程目前為「{CourseStatus(status).label}」，不能執行此作業。" in response.content.decode()
        course.refresh_from_db()
        assert course.status == status


@pytest.mark.parametrize("status", S.values)
def test_the_teacher_is_offered_decline_exactly_when_the_table_allows_it(course_in, status):
    course, teacher, _applicant = course_in(status)
    Course.objects.filter(pk=course.pk).update(start_date=None, code=f"S{course.pk}")
    html = signed_in_client(teacher).get(reverse("courses:detail", args=[f"S{course.pk}"]))
    if status == S.REGISTERING:  # no public page before 開放報名
        assert html.status_code == 404
        return
    shown = f'href="{reverse("courses:decline", args=[f"S{course.pk}"])}"' in html.content.decode()
    assert shown == (status in EXPECTED["decline"])


@pytest.mark.parametrize("status", sorted(EXPECTED["checkins"]))
def test_the_check_in_record_page_offers_the_check_in_page_exactly_when_the_table_allows_it(
    clerk, course_in, status
):
    """報到紀錄與出席時數 links 報到頁 by the table's "checkin" row (it once tested a substring of the state)."""
    course, _teacher, _applicant = course_in(status)
    response = signed_in_client(clerk).get(reverse("courses:checkins", args=[course.pk]))
    assert response.status_code == 200
    shown = f'href="{reverse("courses:checkin", args=[course.pk])}"' in response.content.decode()
    assert shown == (status in EXPECTED["checkin"])
