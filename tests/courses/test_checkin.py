"""研習報到 and 簽退 (issue 23 points 1–3): the participant's code, the scans and their answers,
the offline queue sent twice, 場次, and the scans turned into attendance for 名單確認通過."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.refusals import Kind
from core.roc import format_roc_date
from courses import checkin, services
from courses.models import CheckIn, CheckKind, Course, CourseSession, CourseStatus, Enrolment, EnrolmentStatus
from tests.accounts.test_last_chief_race import at_the_same_moment
from tests.conftest import require_postgresql
from tests.helpers import refusal_of, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(make_course, make_teacher):
    """Two admitted teachers and one waiting; a course held yesterday, one session 09:00–12:00 (the
    scans' times are then in the past, where a phone's clock is believed)."""
    course = make_course(capacity=2)
    teachers = [make_teacher(), make_teacher(), make_teacher()]
    for teacher in teachers:
        services.enrolment_enrol(actor=teacher, course=course)
    day = timezone.localdate() - dt.timedelta(days=1)
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.CLOSED, start_date=day, end_date=day)
    course.refresh_from_db()
    course.session = CourseSession.objects.create(
        course=course, date=day, starts_at=dt.time(9), ends_at=dt.time(12), hours=Decimal("3")
    )
    course.admitted = list(course.enrolments.filter(status=EnrolmentStatus.ADMITTED).order_by("pk"))
    course.waiting = course.enrolments.get(status=EnrolmentStatus.WAITING)
    return course


def scan(course, enrolment, *, actor, kind=CheckKind.IN, scan_id=None, at=None, token=None):
    return checkin.checkin_record(
        actor=actor,
        course=course,
        scan_id=scan_id or str(uuid.uuid4()),
        session_id=course.session.pk,
        kind=kind,
        token=token if token is not None else checkin.token_for(enrolment),
        scanned_at=at,
    )


def at(course, hour, minute=0) -> str:
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(course.session.date, dt.time(hour, minute), tzinfo=zone).isoformat()


def roc_day(course) -> str:
    return format_roc_date(course.session.date)


# ------------------------------------------------------------------------------------------
# The code


def test_the_token_names_course_and_enrolment_number_never_the_person(course):
    enrolment = course.admitted[0]
    token = checkin.token_for(enrolment)
    assert checkin.read_token(token) == (course.code, enrolment.number)
    person = enrolment.person
    assert str(person.pk) not in token.split(":")[1].split(".")[0]
    assert person.name not in token
    assert enrolment.number in token


def test_a_forged_token_is_not_read(course):
    token = checkin.token_for(course.admitted[0])
    other = course.admitted[1].number
    forged = token.replace(course.admitted[0].number, other)
    assert checkin.read_token(forged) is None
    assert checkin.read_token("https://example.com/") is None


def test_my_enrolments_shows_the_code_of_an_admitted_course_only(course):
    admitted = course.admitted[0].person.users.get()
    response = signed_in_client(admitted).get(reverse("courses:my-enrolments"))
    assert response.status_code == 200
    assert b"<svg" in response.content
    assert "報到 QR Code" in response.content.decode()
    waiting = course.waiting.person.users.get()
    response = signed_in_client(waiting).get(reverse("courses:my-enrolments"))
    assert b"<svg" not in response.content


def test_the_admission_mail_carries_the_code(make_course, make_teacher, django_capture_on_commit_callbacks):
    course = make_course()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_enrol(actor=make_teacher(), course=course)
    (message,) = mail.outbox
    assert "報到 QR Code 附於本信" in message.body
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"checkin-{course.code}.png", "image/png")
    assert content.startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------
# Scans and their answers


def test_a_scan_records_check_in_with_the_masked_name(course, clerk):
    enrolment = course.admitted[0]
    result = scan(course, enrolment, actor=clerk, at=at(course, 8, 55))
    assert result.outcome == "recorded"
    assert result.message == f"{enrolment.person.masked_name} 報到完成（{roc_day(course)} 08:55）。"
    record = CheckIn.objects.get()
    assert (record.enrolment, record.session, record.kind) == (enrolment, course.session, CheckKind.IN)
    assert timezone.localtime(record.scanned_at).time() == dt.time(8, 55)


def test_a_repeated_scan_is_answered_and_not_recorded_again(course, clerk):
    enrolment = course.admitted[0]
    scan(course, enrolment, actor=clerk, at=at(course, 8, 55))
    again = scan(course, enrolment, actor=clerk, at=at(course, 8, 57))
    assert again.outcome == "already"
    assert again.code == "already_recorded"
    assert again.message == f"{enrolment.person.masked_name} 已於 {roc_day(course)} 08:55 報到，不重複記錄。"
    assert CheckIn.objects.count() == 1


def test_check_out_is_its_own_record(course, clerk):
    enrolment = course.admitted[0]
    scan(course, enrolment, actor=clerk)
    out = scan(course, enrolment, actor=clerk, kind=CheckKind.OUT)
    assert out.outcome == "recorded"
    assert "簽退完成" in out.message
    assert CheckIn.objects.count() == 2


def test_two_phones_scanning_one_person_give_one_record(course, clerk, actors):
    colleague = actors("clerk").colleague
    enrolment = course.admitted[0]
    first = scan(course, enrolment, actor=clerk, at=at(course, 8, 50))
    second = scan(course, enrolment, actor=colleague, at=at(course, 8, 51))
    assert (first.outcome, second.outcome) == ("recorded", "already")
    assert CheckIn.objects.get().recorded_by == clerk


def test_a_scan_sent_twice_counts_once(course, clerk):
    enrolment = course.admitted[0]
    scan_id = str(uuid.uuid4())
    first = scan(course, enrolment, actor=clerk, scan_id=scan_id)
    again = scan(course, enrolment, actor=clerk, scan_id=scan_id)
    assert first.outcome == again.outcome == "recorded"
    assert first.message == again.message
    assert CheckIn.objects.count() == 1


def test_someone_not_admitted_is_told_so(course, clerk):
    result = checkin.checkin_sync(
        actor=clerk,
        course=course,
        scans=[
            {
                "id": str(uuid.uuid4()),
                "session": course.session.pk,
                "kind": "in",
                "token": checkin.token_for(course.waiting),
            }
        ],
    )
    assert result[0]["outcome"] == "refused"
    assert result[0]["code"] == "not_admitted"
    assert result[0]["message"] == (
        f"{course.waiting.person.masked_name} 在本課程的報名狀態為「候補」，未錄取，不能報到或簽退。"
    )
    assert not CheckIn.objects.exists()


def test_a_code_of_another_course_is_told_so(course, clerk, make_course, make_teacher):
    other = make_course(title="另一門課程")
    teacher = make_teacher()
    enrolment = services.enrolment_enrol(actor=teacher, course=other)
    with pytest.raises(checkin.CheckInError) as refused:
        scan(course, enrolment, actor=clerk, token=checkin.token_for(enrolment))
    assert refused.value.code == "other_course"
    assert refused.value.message == f"這是其他課程（課程代碼 {other.code}）的報到碼，不是本課程的。"
    assert not CheckIn.objects.exists()


def test_anything_else_the_camera_reads_is_not_a_code(course, clerk):
    with pytest.raises(checkin.CheckInError) as refused:
        scan(course, course.admitted[0], actor=clerk, token="WIFI:S:hall;;")
    assert refused.value.code == "invalid_token"
    assert str(refused.value.message) == "無法辨識此 QR Code，它不是本網站的研習報到碼。請改用姓名查詢。"


def test_the_manual_look_up_records_by_enrolment_number(course, clerk):
    enrolment = course.admitted[1]
    result = checkin.checkin_record(
        actor=clerk,
        course=course,
        scan_id=str(uuid.uuid4()),
        session_id=course.session.pk,
        kind="in",
        number=enrolment.number,
        method="manual",
    )
    assert result.outcome == "recorded"
    assert CheckIn.objects.get().method == "manual"


def test_a_phone_clock_far_off_is_not_believed(course, clerk):
    scan(course, course.admitted[0], actor=clerk, at="2001-01-01T09:00:00+08:00")
    assert abs(CheckIn.objects.get().scanned_at - timezone.now()) < dt.timedelta(minutes=1)


def test_no_check_in_once_the_list_is_confirmed(course, clerk):
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.CONFIRMED)
    course.refresh_from_db()
    with pytest.raises(checkin.CheckInError) as refused:
        scan(course, course.admitted[0], actor=clerk)
    assert refused.value.code == "wrong_state"
    assert not CheckIn.objects.exists()


# ------------------------------------------------------------------------------------------
# The endpoints and who may use them


def sync(client, course, scans):
    return client.post(
        reverse("courses:checkin-sync", args=[course.pk]),
        json.dumps({"scans": scans}),
        content_type="application/json",
    )


def test_the_offline_queue_sent_twice_counts_once(course, clerk):
    client = signed_in_client(clerk)
    scans = [
        {"id": str(uuid.uuid4()), "session": course.session.pk, "kind": "in", "token": checkin.token_for(e)}
        for e in course.admitted
    ]
    first = sync(client, course, scans)
    again = sync(client, course, scans)
    assert first.status_code == again.status_code == 200
    assert [r["outcome"] for r in first.json()["results"]] == ["recorded", "recorded"]
    assert [r["outcome"] for r in again.json()["results"]] == ["recorded", "recorded"]
    assert CheckIn.objects.count() == 2


def test_the_page_data_carries_masked_names_and_tokens_no_ids(course, clerk):
    response = signed_in_client(clerk).get(reverse("courses:checkin-data", args=[course.pk]))
    assert response.status_code == 200
    data = response.json()
    names = {p["name"] for p in data["participants"]}
    assert names == {e.person.masked_name for e in course.enrolments.all()}
    assert {p["token"] for p in data["participants"] if p["admitted"]} == {
        checkin.token_for(e) for e in course.admitted
    }
    body = response.content.decode()
    for enrolment in course.enrolments.select_related("person"):
        assert enrolment.person.name not in body


@pytest.mark.parametrize("who", ["outsider", "far_outsider"])
def test_another_units_manager_sees_no_check_in_and_changes_nothing(course, actors, who):
    client = signed_in_client(getattr(actors("clerk"), who))
    assert client.get(reverse("courses:checkin", args=[course.pk])).status_code == 404
    assert client.get(reverse("courses:checkin-data", args=[course.pk])).status_code == 404
    assert client.get(reverse("courses:checkins", args=[course.pk])).status_code == 404
    assert client.get(reverse("courses:sessions", args=[course.pk])).status_code == 404
    scans = [
        {
            "id": str(uuid.uuid4()),
            "session": course.session.pk,
            "kind": "in",
            "token": checkin.token_for(course.admitted[0]),
        }
    ]
    assert sync(client, course, scans).status_code == 404
    response = client.post(
        reverse("courses:sessions", args=[course.pk]),
        {"date": "2030-01-01", "starts_at": "09:00", "ends_at": "10:00", "hours": "1"},
    )
    assert response.status_code == 404
    assert not CheckIn.objects.exists()
    assert course.sessions.count() == 1


def test_a_teacher_may_not_open_the_check_in_page(course):
    client = signed_in_client(course.admitted[0].person.users.get())
    assert client.get(reverse("courses:checkin", args=[course.pk])).status_code == 403
    assert sync(client, course, []).status_code == 403


def _check_in_services(course, actor) -> dict:
    """Each write of courses.checkin, called as `actor` on the course and its session."""
    scan_of = {"id": str(uuid.uuid4()), "session": course.session.pk, "kind": "in"}
    token = checkin.token_for(course.admitted[0])
    return {
        "session_save": lambda: checkin.session_save(
            actor=actor,
            course=course,
            session=course.session,
            date=course.session.date,
            starts_at=dt.time(8),
            ends_at=dt.time(9),
            hours=Decimal("1"),
        ),
        "session_delete": lambda: checkin.session_delete(actor=actor, course=course, session=course.session),
        "checkin_record": lambda: scan(course, course.admitted[0], actor=actor),
        "checkin_sync": lambda: checkin.checkin_sync(
            actor=actor, course=course, scans=[{**scan_of, "token": token}]
        ),
        "attendance_from_checkins": lambda: checkin.attendance_from_checkins(
            actor=actor, course=course, accepted=set()
        ),
    }


def _nothing_changed(course) -> None:
    course.refresh_from_db()
    assert course.status == CourseStatus.CLOSED
    assert not CheckIn.objects.exists()
    assert list(course.sessions.values_list("pk", "starts_at", "ends_at")) == [
        (course.session.pk, dt.time(9), dt.time(12))
    ]
    assert not course.enrolments.filter(attended_hours__isnull=False).exists()


SERVICES = ("session_save", "session_delete", "checkin_record", "checkin_sync", "attendance_from_checkins")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("who", ["outsider", "far_outsider"])
def test_check_in_services_answer_another_units_manager_not_found(course, actors, who, service):
    """The one 研習課程管理 guard (courses.services.require_course_manager): a course outside the
    actor's scope is not visible (404), whatever the service."""
    outsider = getattr(actors("clerk"), who)
    refused = refusal_of(_check_in_services(course, outsider)[service])
    assert (refused.code, refused.kind, refused.status) == ("not_found", Kind.NOT_VISIBLE, 404)
    assert str(refused.message) == "找不到此研習課程。"
    _nothing_changed(course)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("who", ["teacher", "centre"])
def test_check_in_services_forbid_a_colleague_without_the_permission(course, actors, centre, who, service):
    """A teacher of the organising school, and the centre whose scope holds the school: they see the
    course but hold no 研習課程管理 (403)."""
    colleague = actors("teacher").colleague if who == "teacher" else centre
    refused = refusal_of(_check_in_services(course, colleague)[service])
    assert (refused.code, refused.kind, refused.status) == ("forbidden", Kind.FORBIDDEN, 403)
    assert str(refused.message) == "您沒有執行此課程作業的權限。"
    _nothing_changed(course)


def test_the_organisers_clerk_opens_the_page(course, clerk):
    response = signed_in_client(clerk).get(reverse("courses:checkin", args=[course.pk]))
    assert response.status_code == 200
    assert "開啟相機掃描" in response.content.decode()


def test_the_service_worker_is_served_under_the_course_pages(client):
    response = client.get(reverse("courses:checkin-sw"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert reverse("courses:checkin-sw").startswith("/unit/courses/")


def test_a_malformed_queue_is_refused(course, clerk):
    response = signed_in_client(clerk).post(
        reverse("courses:checkin-sync", args=[course.pk]), "not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


# ------------------------------------------------------------------------------------------
# 場次


def test_the_organiser_adds_a_session_with_a_roc_date(course, clerk):
    day = course.start_date
    response = signed_in_client(clerk).post(
        reverse("courses:sessions", args=[course.pk]),
        {
            "date": f"{day.year - 1911}/{day.month}/{day.day}",
            "starts_at": "13:00",
            "ends_at": "16:00",
            "hours": "3",
        },
    )
    assert response.status_code == 302
    assert course.sessions.filter(starts_at=dt.time(13)).exists()


@pytest.mark.parametrize(
    "day, starts, ends, hours, code, message",
    [
        (1, 9, 10, "1", "session_outside", None),
        (0, 13, 17, "4", "session_total", "各場次時數合計（7.0 小時）不能超過課程研習時數（6.0 小時）。"),
        (0, 13, 14, "2", "session_too_long", "場次時數不能超過開始至結束的時間（1.0 小時）。"),
        (0, 14, 13, "1", "session_order", "結束時間須晚於開始時間。"),
    ],
)
def test_a_session_breaking_a_rule_is_refused(course, clerk, day, starts, ends, hours, code, message):
    """Inside the course dates, ends after it starts, no more hours than it lasts, and all sessions
    together no more than the course's hours."""
    with pytest.raises(checkin.CheckInError) as refused:
        checkin.session_save(
            actor=clerk,
            course=course,
            date=course.end_date + dt.timedelta(days=day),
            starts_at=dt.time(starts),
            ends_at=dt.time(ends),
            hours=Decimal(hours),
        )
    assert refused.value.code == code
    if message:
        assert refused.value.message == message
    assert course.sessions.count() == 1


def test_a_session_with_check_ins_is_not_deleted(course, clerk):
    scan(course, course.admitted[0], actor=clerk)
    with pytest.raises(checkin.CheckInError) as refused:
        checkin.session_delete(actor=clerk, course=course, session=course.session)
    assert refused.value.code == "session_has_checkins"
    assert course.sessions.count() == 1


def test_the_course_page_shows_its_sessions(course, client):
    response = client.get(reverse("courses:detail", args=[course.code]))
    assert "09:00–12:00" in response.content.decode()


# ------------------------------------------------------------------------------------------
# From scans to hours


def test_attendance_counts_present_sessions_and_flags_late_ones(course, clerk):
    on_time, late = course.admitted
    scan(course, on_time, actor=clerk, at=at(course, 8, 55))
    scan(course, on_time, actor=clerk, kind=CheckKind.OUT, at=at(course, 12, 1))
    scan(course, late, actor=clerk, at=at(course, 9, 40))
    scan(course, late, actor=clerk, kind=CheckKind.OUT, at=at(course, 12, 0))
    _sessions, rows = checkin.attendance_of(course)
    by_enrolment = {row.enrolment.pk: row.sessions[0] for row in rows}
    assert by_enrolment[on_time.pk].present
    assert by_enrolment[late.pk].flags == ["遲到"]
    assert by_enrolment[late.pk].needs_decision

    checkin.attendance_from_checkins(actor=clerk, course=course, accepted=set())
    hours = dict(
        Enrolment.objects.filter(course=course, status="admitted").values_list("pk", "attended_hours")
    )
    assert hours == {on_time.pk: Decimal("3"), late.pk: Decimal("0")}
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING


def test_the_organiser_accepts_a_flagged_session_and_confirms(course, clerk):
    on_time, early = course.admitted
    scan(course, on_time, actor=clerk, at=at(course, 9, 0))
    scan(course, on_time, actor=clerk, kind=CheckKind.OUT, at=at(course, 11, 55))
    scan(course, early, actor=clerk, at=at(course, 9, 0))
    scan(course, early, actor=clerk, kind=CheckKind.OUT, at=at(course, 10, 30))
    response = signed_in_client(clerk).post(
        reverse("courses:checkins", args=[course.pk]), {"accept": [f"{early.pk}:{course.session.pk}"]}
    )
    assert response.status_code == 302
    hours = dict(
        Enrolment.objects.filter(course=course, status="admitted").values_list("pk", "attended_hours")
    )
    assert hours == {on_time.pk: Decimal("3"), early.pk: Decimal("3")}
    issued = services.course_confirm(actor=clerk, course=course)
    assert issued == 2


def test_no_attendance_from_scans_before_the_last_day(course, clerk):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    Course.objects.filter(pk=course.pk).update(end_date=tomorrow, hours=Decimal("12"))
    course.refresh_from_db()
    with pytest.raises(checkin.CheckInError) as refused:
        checkin.attendance_from_checkins(actor=clerk, course=course, accepted=set())
    assert refused.value.code == "course_not_over"
    assert not Enrolment.objects.filter(course=course, attended_hours__isnull=False).exists()


def test_another_units_manager_cannot_turn_scans_into_hours(course, actors):
    client = signed_in_client(actors("clerk").outsider)
    assert client.post(reverse("courses:checkins", args=[course.pk]), {}).status_code == 404
    course.refresh_from_db()
    assert course.status == CourseStatus.CLOSED


# ------------------------------------------------------------------------------------------
# At the same moment (PostgreSQL: real threads, each with its own connection)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_scan", [True, False], ids=["one-scan-sent-twice", "two-phones"])
def test_simultaneous_scans_of_one_person_give_one_record(course, clerk, actors, same_scan):
    """A queue sent from two tabs at once (the same scan id), or two phones scanning one person at the
    same moment: both answers are good, and one row exists."""
    require_postgresql("the check-in race")
    colleague = actors("clerk").colleague
    enrolment = course.admitted[0]
    shared = str(uuid.uuid4())

    def phone(actor):
        scan_id = shared if same_scan else str(uuid.uuid4())
        return lambda: scan(course, enrolment, actor=actor, scan_id=scan_id)

    results = at_the_same_moment(phone(clerk), phone(colleague))
    assert not [r for r in results if isinstance(r, BaseException)], results
    expected = ["recorded", "recorded"] if same_scan else ["already", "recorded"]
    assert sorted(result.outcome for result in results) == expected
    assert CheckIn.objects.count() == 1
