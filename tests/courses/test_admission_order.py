"""Admission keeps the order of enrolment (issue 18 point 1, SPEC §5).

先到先錄取: seats in enrolment order, a freed seat to the first 候補 at once. 審核錄取: nothing fills
itself; after 公告錄取名單 a new enrolment joins the end of the waiting list; the unit admits from
it, offered in enrolment order; passing someone over needs a recorded reason; a waiting person can
always be admitted while seats are free. The race tests run real concurrent transactions.
"""

import random
import threading

import pytest
from django.db import connection
from django.urls import reverse

from courses import services
from courses.choices import Admission
from courses.models import AdmissionSkip, Enrolment, EnrolmentStatus
from tests.conftest import require_postgresql
from tests.courses.conftest import course_fields
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db

ADMITTED, WAITING = EnrolmentStatus.ADMITTED, EnrolmentStatus.WAITING


def queue(course):
    """(person id, status) of the enrolments still in play, in enrolment order."""
    return list(
        course.enrolments.filter(status__in=(ADMITTED, WAITING, EnrolmentStatus.APPLIED))
        .order_by("applied_at", "pk")
        .values_list("person_id", "status")
    )


def enrol_all(course, teachers):
    return [services.enrolment_enrol(actor=teacher, course=course) for teacher in teachers]


# 先到先錄取 --------------------------------------------------------------------------------------


def test_first_come_seats_go_in_enrolment_order_and_a_freed_seat_to_the_first_waiting(
    make_course, make_teacher
):
    course = make_course(capacity=2)
    a, b, c, d = (make_teacher() for _ in range(4))
    enrol_all(course, [a, b, c, d])
    assert [s for _, s in queue(course)] == [ADMITTED, ADMITTED, WAITING, WAITING]
    services.enrolment_cancel(actor=a, course=course)
    # c (the first 候補), not d, has the seat, at once.
    assert dict(queue(course)) == {b.person_id: ADMITTED, c.person_id: ADMITTED, d.person_id: WAITING}
    # Coming back means the end of the queue, behind d.
    services.enrolment_enrol(actor=a, course=course)
    assert queue(course)[-2:] == [(d.person_id, WAITING), (a.person_id, WAITING)]


def test_first_come_enrolee_never_overtakes_someone_waiting(make_course, make_teacher):
    """A seat freed outside the usual paths (here: the row changed directly) still goes to the waiting."""
    course = make_course(capacity=1)
    a, b, c = (make_teacher() for _ in range(3))
    enrol_all(course, [a, b])
    Enrolment.objects.filter(course=course, person=a.person).update(status=EnrolmentStatus.CANCELLED)
    assert services.enrolment_enrol(actor=c, course=course).status == WAITING
    assert queue(course) == [(b.person_id, ADMITTED), (c.person_id, WAITING)]


# 審核錄取 ----------------------------------------------------------------------------------------


@pytest.fixture
def announced(clerk, make_course, make_teacher):
    """Capacity 2; a, b, c applied; the unit admitted a and announced: b, c wait; one seat free."""
    course = make_course(capacity=2, admission=Admission.REVIEW)
    people = [make_teacher() for _ in range(3)]
    first, *_ = enrol_all(course, people)
    services.course_announce_admission(actor=clerk, course=course, enrolment_ids=[first.pk])
    course.refresh_from_db()
    course.people = people
    return course


def test_after_the_announcement_a_later_enrolee_waits_at_the_end_even_with_a_seat_free(
    announced, make_teacher
):
    a, b, c = announced.people
    late = make_teacher()
    assert services.enrolment_enrol(actor=late, course=announced).status == WAITING
    assert queue(announced) == [
        (a.person_id, ADMITTED),
        (b.person_id, WAITING),
        (c.person_id, WAITING),
        (late.person_id, WAITING),
    ]
    assert [e.person_id for e in services.admission_queue(announced)] == [
        b.person_id,
        c.person_id,
        late.person_id,
    ]


def test_unit_admits_the_first_waiting_and_passing_over_needs_a_recorded_reason(
    clerk, announced, make_teacher
):
    a, b, c = announced.people
    late = make_teacher()
    late_enrolment = services.enrolment_enrol(actor=late, course=announced)
    with pytest.raises(services.CourseError, match="略過了 2 位"):
        services.course_admit_waiting(actor=clerk, course=announced, enrolment_ids=[late_enrolment.pk])
    assert dict(queue(announced))[late.person_id] == WAITING
    assert not AdmissionSkip.objects.exists()
    services.course_admit_waiting(
        actor=clerk, course=announced, enrolment_ids=[late_enrolment.pk], skip_reason="  身心障礙優先錄取 "
    )
    assert dict(queue(announced))[late.person_id] == ADMITTED
    skips = AdmissionSkip.objects.filter(course=announced).order_by("skipped__applied_at")
    assert [(s.skipped.person_id, s.reason, s.decided_by_id) for s in skips] == [
        (b.person_id, "身心障礙優先錄取", clerk.pk),
        (c.person_id, "身心障礙優先錄取", clerk.pk),
    ]


def test_in_review_nothing_fills_itself_and_a_waiting_person_can_still_be_admitted(clerk, announced):
    a, b, c = announced.people
    services.enrolment_decline(actor=a, course=announced)
    assert [s for _, s in queue(announced)] == [WAITING, WAITING]  # two seats free, nobody moved
    first = Enrolment.objects.get(course=announced, person=b.person)
    services.course_admit_waiting(actor=clerk, course=announced, enrolment_ids=[first.pk])
    second = Enrolment.objects.get(course=announced, person=c.person)
    services.course_admit_waiting(actor=clerk, course=announced, enrolment_ids=[second.pk])
    assert [s for _, s in queue(announced)] == [ADMITTED, ADMITTED]
    assert not AdmissionSkip.objects.exists()


def test_admitting_beyond_the_free_seats_or_someone_not_waiting_is_refused(clerk, announced):
    a, b, c = announced.people
    waiting = list(announced.enrolments.filter(status=WAITING).values_list("pk", flat=True))
    with pytest.raises(services.CourseError, match="超過名額"):
        services.course_admit_waiting(actor=clerk, course=announced, enrolment_ids=waiting)
    admitted = Enrolment.objects.get(course=announced, person=a.person)
    with pytest.raises(services.CourseError, match="不是此課程的候補者"):
        services.course_admit_waiting(actor=clerk, course=announced, enrolment_ids=[admitted.pk])
    with pytest.raises(services.CourseError, match="已公告"):
        services.course_announce_admission(actor=clerk, course=announced, enrolment_ids=waiting[:1])
    assert [s for _, s in queue(announced)] == [ADMITTED, WAITING, WAITING]


def test_another_unit_cannot_admit_and_nothing_changes(announced, actors):
    outsider = actors("clerk").outsider
    first = announced.enrolments.filter(status=WAITING).order_by("applied_at").first()
    with pytest.raises(services.CourseError):
        services.course_admit_waiting(actor=outsider, course=announced, enrolment_ids=[first.pk])
    response = signed_in_client(outsider).post(
        reverse("courses:admit", args=[announced.pk]), {"enrolments": [first.pk]}
    )
    assert response.status_code == 404
    first.refresh_from_db()
    assert first.status == WAITING


def test_admit_screen_offers_the_waiting_list_in_order_and_admits_from_it(clerk, announced, make_teacher):
    a, b, c = announced.people
    services.enrolment_enrol(actor=make_teacher(), course=announced)
    client = signed_in_client(clerk)
    detail = client.get(reverse("courses:manage-detail", args=[announced.pk])).content.decode()
    assert reverse("courses:admit", args=[announced.pk]) in detail
    page = client.get(reverse("courses:admit", args=[announced.pk])).content.decode()
    names = [e.person.masked_name for e in services.admission_queue(announced)]
    assert page.index(f"第 1 位　{names[0]}") < page.index(f"第 2 位　{names[1]}") < page.index("第 3 位")
    assert "錄取所選候補者" in page
    third = services.admission_queue(announced)[2]
    refused = client.post(reverse("courses:admit", args=[announced.pk]), {"enrolments": [third.pk]})
    assert refused.status_code == 400 and "請填寫略過理由" in refused.content.decode()
    first = services.admission_queue(announced)[0]
    response = client.post(reverse("courses:admit", args=[announced.pk]), {"enrolments": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == ADMITTED and first.person_id == b.person_id
    # Full now: the screen is no longer offered.
    detail = client.get(reverse("courses:manage-detail", args=[announced.pk])).content.decode()
    assert reverse("courses:admit", args=[announced.pk]) not in detail


# Races (PostgreSQL: real row locks, one connection per thread) ------------------------------------


def _run_at_once(jobs):
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except services.CourseError:
            pass
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def _teachers(school, n):
    users = []
    for _ in range(n):
        user = UserFactory()
        MembershipFactory(person=user.person, unit=school)
        users.append(user)
    return users


@pytest.mark.django_db(transaction=True)
def test_race_first_come_enrolments_and_cancellations_keep_order_and_capacity(clerk, school):
    require_postgresql("concurrent enrolments")
    course = services.course_open(
        actor=clerk, course=services.course_register(actor=clerk, fields=course_fields(capacity=5))
    )
    early = _teachers(school, 9)
    enrol_all(course, early)  # 5 admitted, 4 waiting
    newcomers = _teachers(school, 16)
    leaving = early[:4] + early[6:8]  # four admitted, two waiting
    jobs = [lambda t=t: services.enrolment_enrol(actor=t, course=course) for t in newcomers]
    jobs += [lambda t=t: services.enrolment_cancel(actor=t, course=course) for t in leaving]
    random.Random(18).shuffle(jobs)
    _run_at_once(jobs)

    rows = queue(course)
    assert len(rows) == 9 + 16 - 6
    # The admitted are exactly the first five in enrolment order; everyone after them waits.
    assert [s for _, s in rows] == [ADMITTED] * 5 + [WAITING] * (len(rows) - 5)
    assert course.enrolments.filter(status=EnrolmentStatus.CANCELLED).count() == 6


@pytest.mark.django_db(transaction=True)
def test_race_review_enrolments_cancellations_and_admissions_keep_order_and_capacity(clerk, school):
    require_postgresql("concurrent enrolments")
    course = services.course_open(
        actor=clerk,
        course=services.course_register(
            actor=clerk, fields=course_fields(capacity=6, admission=Admission.REVIEW)
        ),
    )
    early = _teachers(school, 8)
    enrolments = enrol_all(course, early)
    services.course_announce_admission(
        actor=clerk, course=course, enrolment_ids=[e.pk for e in enrolments[:3]]
    )  # 3 admitted, 5 waiting, 3 seats free
    course.refresh_from_db()
    waiting_before = [e.person_id for e in services.admission_queue(course)]
    newcomers = _teachers(school, 12)

    def admit_first_in_line():
        line = services.admission_queue(course)
        if line:
            services.course_admit_waiting(actor=clerk, course=course, enrolment_ids=[line[0].pk])

    jobs = [lambda t=t: services.enrolment_enrol(actor=t, course=course) for t in newcomers]
    jobs += [lambda t=t: services.enrolment_cancel(actor=t, course=course) for t in early[:2]]
    jobs += [admit_first_in_line] * 6
    random.Random(18).shuffle(jobs)
    _run_at_once(jobs)

    rows = queue(course)
    admitted = [person for person, status in rows if status == ADMITTED]
    assert len(admitted) <= 6
    # Nobody enrolled after the announcement got in by themselves, and nobody was passed over.
    assert not set(admitted) & {t.person_id for t in newcomers}
    assert not AdmissionSkip.objects.exists()
    promoted = [p for p in waiting_before if p in admitted]
    assert promoted == waiting_before[: len(promoted)]
    # The newcomers wait at the end of the list, behind everyone enrolled before the announcement.
    assert {p for p, _ in rows[-12:]} == {t.person_id for t in newcomers}
    assert all(status == WAITING for _, status in rows[-12:])
