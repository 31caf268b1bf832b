"""Enrolment (issue 11 point 3): window, 先到先錄取 / 審核錄取, 候補 moving up, e-mails, concurrency."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from courses import services
from courses.choices import Admission
from courses.models import Course, CourseStatus, Enrolment, EnrolmentStatus
from tests.conftest import skip_or_fail
from tests.courses.conftest import course_fields
from tests.factories import MembershipFactory, SchoolFactory, UserFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def statuses(course):
    return list(course.enrolments.order_by("applied_at", "pk").values_list("status", flat=True))


def test_first_come_admits_while_seats_last_then_waits(make_course, make_teacher):
    course = make_course(capacity=2)
    for _ in range(3):
        services.enrolment_enrol(actor=make_teacher(), course=course)
    assert statuses(course) == ["admitted", "admitted", "waiting"]


def test_teacher_enrols_from_the_course_page(make_course, make_teacher):
    course = make_course()
    teacher = make_teacher()
    response = signed_in_client(teacher).post(reverse("courses:enrol", args=[course.code]), follow=True)
    assert "報名完成，目前狀態：錄取" in response.content.decode()
    assert Enrolment.objects.get().person == teacher.person


def test_business_account_cannot_enrol(make_course, clerk):
    course = make_course()
    with pytest.raises(services.CourseError, match="只有教師個人帳號"):
        services.enrolment_enrol(actor=clerk, course=course)
    assert not Enrolment.objects.exists()


def test_enrolment_outside_the_window_is_refused(make_course, make_teacher):
    course = make_course(enrol_opens_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(services.CourseError, match="不在此課程的報名時間內"):
        services.enrolment_enrol(actor=make_teacher(), course=course)
    closed = make_course()
    Course.objects.filter(pk=closed.pk).update(status=CourseStatus.CLOSED)
    closed.refresh_from_db()
    with pytest.raises(services.CourseError):
        services.enrolment_enrol(actor=make_teacher(), course=closed)
    assert not Enrolment.objects.exists()


def test_teacher_cannot_enrol_twice(make_course, make_teacher):
    course = make_course()
    teacher = make_teacher()
    services.enrolment_enrol(actor=teacher, course=course)
    with pytest.raises(services.CourseError, match="您已報名此課程"):
        services.enrolment_enrol(actor=teacher, course=course)
    assert Enrolment.objects.count() == 1


def test_database_refuses_a_second_enrolment_row(make_course, make_teacher):
    course = make_course()
    enrolment = services.enrolment_enrol(actor=make_teacher(), course=course)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(
            course=course, person=enrolment.person, status=EnrolmentStatus.WAITING, applied_at=timezone.now()
        )


def test_audience_outside_the_teachers_stage_is_refused(clerk, make_teacher, authority):
    course = services.course_register(actor=clerk, fields=course_fields(), stages=["國中"])
    course = services.course_open(actor=clerk, course=course)
    with pytest.raises(services.CourseError, match="研習對象"):
        services.enrolment_enrol(actor=make_teacher(), course=course)  # a 國小 teacher
    junior = SchoolFactory(authority=authority, stage="國中")
    services.enrolment_enrol(actor=make_teacher(unit=junior), course=course)


def test_cancel_moves_the_waiting_list_up_and_mails_the_teacher(
    make_course, make_teacher, mailoutbox, django_capture_on_commit_callbacks
):
    course = make_course(capacity=1)
    first, second = make_teacher(), make_teacher()
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_enrol(actor=first, course=course)
        services.enrolment_enrol(actor=second, course=course)
    assert [m.subject for m in mailoutbox] == ["【錄取通知】校園安全教育研習", "【候補通知】校園安全教育研習"]
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_cancel(actor=first, course=course)
    assert Enrolment.objects.get(person=second.person).status == EnrolmentStatus.ADMITTED
    assert mailoutbox[-1].subject == "【候補遞補錄取通知】校園安全教育研習"
    assert mailoutbox[-1].to == [second.email]  # the account's address, which the teacher sees


def test_declining_the_place_moves_the_waiting_list_up(make_course, make_teacher):
    course = make_course(capacity=1)
    first, second = make_teacher(), make_teacher()
    services.enrolment_enrol(actor=first, course=course)
    services.enrolment_enrol(actor=second, course=course)
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.CLOSED)  # after the window, too
    services.enrolment_decline(actor=first, course=course)
    assert statuses(course) == ["declined", "admitted"]


def test_waiting_teacher_cannot_decline(make_course, make_teacher):
    course = make_course(capacity=1)
    services.enrolment_enrol(actor=make_teacher(), course=course)
    waiting = make_teacher()
    services.enrolment_enrol(actor=waiting, course=course)
    with pytest.raises(services.CourseError, match="錄取資格"):
        services.enrolment_decline(actor=waiting, course=course)


def test_review_admission_waits_for_the_unit_then_announces(clerk, make_course, make_teacher, actors):
    course = make_course(capacity=1, admission=Admission.REVIEW)
    teachers = [make_teacher() for _ in range(3)]
    for teacher in teachers:
        services.enrolment_enrol(actor=teacher, course=course)
    assert statuses(course) == ["applied"] * 3
    chosen = Enrolment.objects.get(person=teachers[1].person)
    with pytest.raises(services.CourseError, match="超過名額"):
        services.course_announce_admission(
            actor=clerk, course=course, enrolment_ids=list(course.enrolments.values_list("pk", flat=True))
        )
    outsider = actors("clerk").outsider
    with pytest.raises(services.CourseError):
        services.course_announce_admission(actor=outsider, course=course, enrolment_ids=[chosen.pk])
    assert statuses(course) == ["applied"] * 3
    with pytest.raises(services.CourseError, match="略過了 1 位"):
        services.course_announce_admission(actor=clerk, course=course, enrolment_ids=[chosen.pk])
    services.course_announce_admission(
        actor=clerk, course=course, enrolment_ids=[chosen.pk], skip_reason="非研習對象之服務學校"
    )
    assert statuses(course) == ["waiting", "admitted", "waiting"]
    # 審核錄取: nothing fills itself; the freed seat waits for the unit (tests/courses/test_admission_order.py).
    services.enrolment_decline(actor=teachers[1], course=course)
    assert statuses(course) == ["waiting", "declined", "waiting"]


def test_reminder_goes_once_to_admitted_teachers_the_day_before(
    make_course, make_teacher, mailoutbox, django_capture_on_commit_callbacks
):
    course = make_course(capacity=1)
    services.enrolment_enrol(actor=make_teacher(), course=course)
    services.enrolment_enrol(actor=make_teacher(), course=course)  # waiting: no reminder
    day_before = course.start_date - dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.course_reminders_send(today=day_before - dt.timedelta(days=3)) == 0
        assert services.course_reminders_send(today=day_before) == 1
        assert services.course_reminders_send(today=day_before) == 0
    assert [m.subject for m in mailoutbox] == ["【研習提醒】校園安全教育研習 即將開始"]


def test_reminder_task_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "courses.tasks.send_course_reminders" in tasks


@pytest.mark.django_db(transaction=True)
def test_concurrent_enrolments_never_exceed_capacity_nor_double_enrol(clerk, school):
    """Twenty teachers (one of them twice) enrol at the same moment into a five-seat course."""
    if connection.vendor != "postgresql":
        skip_or_fail("row locks and concurrent transactions need PostgreSQL (SQLite serialises writers)")
    course = services.course_open(
        actor=clerk, course=services.course_register(actor=clerk, fields=course_fields(capacity=5))
    )
    teachers = []
    for _ in range(20):
        user = UserFactory()
        MembershipFactory(person=user.person, unit=school)
        teachers.append(user)
    actors = teachers + [teachers[0]]
    barrier = threading.Barrier(len(actors))
    outcomes: list[str] = []

    def enrol(actor):
        try:
            barrier.wait()
            services.enrolment_enrol(actor=actor, course=course)
            outcomes.append("ok")
        except services.CourseError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] * 20 + ["refused"]
    assert course.enrolments.filter(status=EnrolmentStatus.ADMITTED).count() == 5
    assert course.enrolments.filter(status=EnrolmentStatus.WAITING).count() == 15
    assert course.enrolments.count() == 20


def test_cancel_outside_the_window_is_refused(make_course, make_teacher):
    course = make_course()
    teacher = make_teacher()
    services.enrolment_enrol(actor=teacher, course=course)
    Course.objects.filter(pk=course.pk).update(enrol_closes_at=timezone.now() - dt.timedelta(minutes=1))
    course.refresh_from_db()
    with pytest.raises(services.CourseError, match="報名時間"):
        services.enrolment_cancel(actor=teacher, course=course)
    assert Enrolment.objects.get().status == EnrolmentStatus.ADMITTED
