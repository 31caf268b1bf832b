"""研習報到 and 簽退 by QR code, 場次, and attendance from the scans (issue 23 points 1–3).

- A participant's code carries a signed token (django.core.signing) of the course's public code
  and the enrolment's random 報名序號: never a national ID, never a primary key. It is the same
  token every time (signing is deterministic), so the phone's cached list matches what it reads.
- A scan carries the UUID the phone gave it. The UUID is unique, so a scan sent twice is one
  record; (session, enrolment, kind) is unique, so two phones scanning the same person give one
  record: the first to arrive wins and the second is told 已報到.
- Attendance counts a session's hours for whoever checked in by its start and out at its end
  (CHECKIN_GRACE either side). Anyone late, leaving early or missing one of the two scans is
  flagged for the organiser, whose choice goes into the attendance; the course then goes through
  名單確認通過 as after an upload.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.refusals import Kind
from core.roc import format_roc_date, format_roc_datetime
from courses import selectors, services, states
from courses.models import (
    CheckIn,
    CheckKind,
    CheckMethod,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from courses.services import CourseError

TOKEN_SALT = "courses.checkin"
TOKEN_PREFIX = "CI1:"  # tells a portal code from anything else a phone camera may read
# Present "at its start and end": a scan up to this long after the start, or before the end, counts.
CHECKIN_GRACE = dt.timedelta(minutes=10)
# A phone's clock is believed for scans made offline, within these bounds of the arrival time.
CLOCK_PAST = dt.timedelta(days=3)
CLOCK_FUTURE = dt.timedelta(minutes=5)

# States in which the door is open: enrolled people are coming; 待確認 for late offline queues.
# The states each step runs from: the course state machine's table (courses.states).
CHECKIN_STATES = states.ACTIONS["checkin"].from_states
SESSION_EDIT_STATES = states.ACTIONS["session_edit"].from_states
ATTENDANCE_STATES = states.ACTIONS["upload"].from_states

MSG_INVALID_TOKEN = _("無法辨識此 QR Code，它不是本網站的研習報到碼。請改用姓名查詢。")
MSG_OTHER_COURSE = _("這是其他課程（課程代碼 {code}）的報到碼，不是本課程的。")
MSG_NOT_ADMITTED = _("{name} 在本課程的報名狀態為「{status}」，未錄取，不能報到或簽退。")
MSG_ALREADY = _("{name} 已於 {time} {kind}，不重複記錄。")
MSG_RECORDED = _("{name} {kind}完成（{time}）。")
MSG_NO_SESSION = _("請選擇本課程的場次。")
MSG_BAD_KIND = _("請選擇報到或簽退。")
MSG_BAD_SCAN_ID = _("掃描紀錄缺少識別碼，請重新整理報到頁後再掃描。")
MSG_CLOSED = _("課程目前為「{status}」，不能報到或簽退。")
MSG_SESSION_OUTSIDE = _("場次日期須在上課日期（{start}～{end}）之內。")
MSG_SESSION_ORDER = _("結束時間須晚於開始時間。")
MSG_SESSION_TOO_LONG = _("場次時數不能超過開始至結束的時間（{hours} 小時）。")
MSG_SESSION_TOTAL = _("各場次時數合計（{total} 小時）不能超過課程研習時數（{hours} 小時）。")
MSG_SESSION_TAKEN = _("本課程在同一天同一開始時間已有場次。")
MSG_SESSION_HAS_CHECKINS = _("此場次已有報到紀錄，不能刪除。")
MSG_SESSION_STATE = _("課程目前為「{status}」，不能修改場次。")
MSG_BAD_REQUEST = _("傳送的資料格式不正確。")
MSG_NO_SESSIONS = _("本課程尚未設定場次，不能由報到紀錄產生出席時數。")


class CheckInError(CourseError):
    """The refusals of check-in: the code tells the phone what to show."""


# ------------------------------------------------------------------------------------------
# The participant's code


def token_for(enrolment: Enrolment) -> str:
    """The signed token of an enrolment (the course's code and the 報名序號)."""
    value = f"{enrolment.course.code}.{enrolment.number}"
    return TOKEN_PREFIX + signing.Signer(salt=TOKEN_SALT).sign(value)


def read_token(token: str) -> tuple[str, str] | None:
    """(course code, 報名序號) of a genuine token, None for anything else."""
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    try:
        value = signing.Signer(salt=TOKEN_SALT).unsign(token[len(TOKEN_PREFIX) :])
    except signing.BadSignature:
        return None
    code, _dot, number = value.rpartition(".")
    return (code, number) if code and number else None


def qr_svg(token: str) -> str:
    """The code as an inline SVG (a path, no script), sized by the page's CSS."""
    import qrcode  # about 0.05 s to import, and only check-in pages and mails draw a code
    import qrcode.image.svg

    image = qrcode.make(token, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    return image.to_string(encoding="unicode")


def qr_png(token: str) -> bytes:
    """The code as a PNG, for the admission e-mail (mail programs rarely show SVG)."""
    import qrcode  # loaded when a code is drawn (see qr_svg)

    buffer = io.BytesIO()
    qrcode.make(token, box_size=8, border=4).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------
# 場次


def _session_clean(course: Course, session: CourseSession) -> None:
    if session.ends_at <= session.starts_at:
        raise CheckInError(MSG_SESSION_ORDER, code="session_order", kind=Kind.INVALID)
    if course.start_date and course.end_date and not course.start_date <= session.date <= course.end_date:
        raise CheckInError(
            MSG_SESSION_OUTSIDE.format(
                start=format_roc_date(course.start_date), end=format_roc_date(course.end_date)
            ),
            code="session_outside",
            kind=Kind.INVALID,
        )
    span = dt.datetime.combine(session.date, session.ends_at) - dt.datetime.combine(
        session.date, session.starts_at
    )
    span_hours = Decimal(span.total_seconds()) / Decimal(3600)
    if session.hours > span_hours:
        raise CheckInError(
            MSG_SESSION_TOO_LONG.format(hours=span_hours.quantize(Decimal("0.1"))),
            code="session_too_long",
            kind=Kind.INVALID,
        )
    others = course.sessions.exclude(pk=session.pk)
    total = (others.aggregate(total=Sum("hours"))["total"] or Decimal("0")) + session.hours
    if total > course.hours:
        raise CheckInError(
            MSG_SESSION_TOTAL.format(total=total, hours=course.hours), code="session_total", kind=Kind.INVALID
        )
    if others.filter(date=session.date, starts_at=session.starts_at).exists():
        raise CheckInError(MSG_SESSION_TAKEN, code="session_taken", kind=Kind.INVALID)


def _lock_for_sessions(actor: User, course: Course) -> Course:
    course = Course.objects.select_for_update().get(pk=course.pk)
    services.require_course_manager(actor, course)
    if course.status not in SESSION_EDIT_STATES:
        raise CheckInError(MSG_SESSION_STATE.format(status=course.get_status_display()), code="wrong_state")
    return course


@transaction.atomic
def session_save(
    *,
    actor: User,
    course: Course,
    date: dt.date,
    starts_at: dt.time,
    ends_at: dt.time,
    hours: Decimal,
    session: CourseSession | None = None,
) -> CourseSession:
    """Add a 場次 to a course, or change one; the course row is locked so the hours total holds."""
    course = _lock_for_sessions(actor, course)
    if session is None:
        session = CourseSession(course=course)
    elif session.course_id != course.pk:
        raise CheckInError(MSG_NO_SESSION, code="not_visible", kind=Kind.NOT_VISIBLE)
    session.date, session.starts_at, session.ends_at, session.hours = date, starts_at, ends_at, hours
    _session_clean(course, session)
    session.save()
    return session


@transaction.atomic
def session_delete(*, actor: User, course: Course, session: CourseSession) -> None:
    course = _lock_for_sessions(actor, course)
    if session.course_id != course.pk:
        raise CheckInError(MSG_NO_SESSION, code="not_visible", kind=Kind.NOT_VISIBLE)
    if session.checkins.exists():
        raise CheckInError(MSG_SESSION_HAS_CHECKINS, code="session_has_checkins")
    session.delete()


# ------------------------------------------------------------------------------------------
# Recording a scan


@dataclass
class ScanResult:
    """What the phone shows for one scan: `outcome` recorded / already / refused, with the message."""

    scan_id: str
    outcome: str
    code: str
    message: str
    name: str = ""
    at: str = ""  # ROC date and HH:MM, Asia/Taipei
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "id": self.scan_id,
            "outcome": self.outcome,
            "code": self.code,
            "message": self.message,
            "name": self.name,
            "at": self.at,
        }


def _clock(value: str | None, now: dt.datetime) -> dt.datetime:
    """The phone's time of the scan when plausible, otherwise the arrival time."""
    if value:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return now
        if timezone.is_naive(moment):
            return now
        if now - CLOCK_PAST <= moment <= now + CLOCK_FUTURE:
            return moment
    return now


def _stamp(moment: dt.datetime) -> str:
    """115年12月8日 09:01: the ROC date and the time in Asia/Taipei."""
    return format_roc_datetime(timezone.localtime(moment))


def _result_of(record: CheckIn, scan_id: str, *, again: bool) -> ScanResult:
    name = record.enrolment.person.masked_name
    kind = record.get_kind_display()
    if again:
        return ScanResult(
            scan_id,
            "already",
            "already_recorded",
            str(MSG_ALREADY).format(name=name, time=_stamp(record.scanned_at), kind=kind),
            name,
            _stamp(record.scanned_at),
        )
    return ScanResult(
        scan_id,
        "recorded",
        "recorded",
        str(MSG_RECORDED).format(name=name, kind=kind, time=_stamp(record.scanned_at)),
        name,
        _stamp(record.scanned_at),
    )


def _find_enrolment(course: Course, *, token: str | None, number: str | None) -> Enrolment:
    if token is not None:
        decoded = read_token(token)
        if decoded is None:
            raise CheckInError(MSG_INVALID_TOKEN, code="invalid_token", kind=Kind.INVALID)
        code, number = decoded
        if code != course.code:
            raise CheckInError(MSG_OTHER_COURSE.format(code=code), code="other_course")
    enrolment = (
        Enrolment.objects.select_related("person").filter(course=course, number=number or "").first()
        if number
        else None
    )
    if enrolment is None:
        # A genuine token of this course names one of its enrolments; anything else is not ours.
        raise CheckInError(MSG_INVALID_TOKEN, code="invalid_token", kind=Kind.INVALID)
    if enrolment.status != EnrolmentStatus.ADMITTED:
        raise CheckInError(
            MSG_NOT_ADMITTED.format(name=enrolment.person.masked_name, status=enrolment.get_status_display()),
            code="not_admitted",
        )
    return enrolment


def checkin_record(
    *,
    actor: User,
    course: Course,
    scan_id: str,
    session_id: int,
    kind: str,
    token: str | None = None,
    number: str | None = None,
    scanned_at: str | None = None,
    method: str = CheckMethod.SCAN,
) -> ScanResult:
    """One 報到 or 簽退, from a code (`token`) or the manual look-up (`number`, the 報名序號).

    Idempotent by `scan_id`; refusals raise CheckInError with their own code (invalid_token,
    other_course, not_admitted, wrong_state, …), a repeated person answers `already`.
    """
    services.require_course_manager(actor, course)
    try:
        scan_uuid = uuid.UUID(str(scan_id))
    except ValueError:
        raise CheckInError(MSG_BAD_SCAN_ID, code="bad_scan_id", kind=Kind.INVALID) from None
    scan_id = str(scan_uuid)
    replay = CheckIn.objects.select_related("enrolment__person", "session").filter(scan_id=scan_uuid).first()
    if replay is not None:
        if replay.session.course_id != course.pk:
            raise CheckInError(MSG_BAD_SCAN_ID, code="bad_scan_id", kind=Kind.INVALID)
        return _result_of(replay, scan_id, again=False)  # the same scan again: what it was the first time
    if course.status not in CHECKIN_STATES:
        raise CheckInError(MSG_CLOSED.format(status=course.get_status_display()), code="wrong_state")
    if kind not in CheckKind.values:
        raise CheckInError(MSG_BAD_KIND, code="bad_kind", kind=Kind.INVALID)
    session = CourseSession.objects.filter(course=course, pk=session_id if str(session_id).isdigit() else 0)
    session = session.first()
    if session is None:
        raise CheckInError(MSG_NO_SESSION, code="no_session", kind=Kind.INVALID)
    enrolment = _find_enrolment(course, token=token, number=number)
    now = timezone.now()
    first = CheckIn.objects.filter(session=session, enrolment=enrolment, kind=kind).first()
    if first is not None:
        # It may be this very scan, committed by a retry since the replay look-up above.
        first.enrolment = enrolment
        return _result_of(first, scan_id, again=first.scan_id != scan_uuid)
    record = CheckIn(
        scan_id=scan_uuid,
        session=session,
        enrolment=enrolment,
        kind=kind,
        method=method if method in CheckMethod.values else CheckMethod.SCAN,
        scanned_at=_clock(scanned_at, now),
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        # Lost a race: the same scan from a retry, or another phone's scan of the same person.
        replay = CheckIn.objects.select_related("enrolment__person").filter(scan_id=scan_uuid).first()
        if replay is not None:
            return _result_of(replay, scan_id, again=False)
        first = CheckIn.objects.get(session=session, enrolment=enrolment, kind=kind)
        first.enrolment = enrolment
        return _result_of(first, scan_id, again=first.scan_id != scan_uuid)
    return _result_of(record, scan_id, again=False)


MAX_SYNC_SCANS = 500


def checkin_sync(*, actor: User, course: Course, scans: list[dict]) -> list[dict]:
    """A phone's queue: each scan recorded on its own (one refusal does not hold back the rest)."""
    services.require_course_manager(actor, course)
    results = []
    for scan in scans[:MAX_SYNC_SCANS]:
        scan = scan if isinstance(scan, dict) else {}
        scan_id = str(scan.get("id", ""))
        try:
            result = checkin_record(
                actor=actor,
                course=course,
                scan_id=scan_id,
                session_id=scan.get("session"),
                kind=str(scan.get("kind", "")),
                token=str(scan["token"]) if scan.get("token") is not None else None,
                number=str(scan["number"]) if scan.get("number") is not None else None,
                scanned_at=scan.get("at"),
                method=str(scan.get("method") or CheckMethod.SCAN),
            )
        except CheckInError as error:
            results.append(ScanResult(scan_id, "refused", error.code, str(error.message)).as_json())
        else:
            results.append(result.as_json())
    return results


# ------------------------------------------------------------------------------------------
# From scans to hours


@dataclass
class SessionAttendance:
    """One participant at one 場次: the scans, and whether the session's hours count."""

    session: CourseSession
    checked_in: dt.datetime | None
    checked_out: dt.datetime | None
    flags: list[str]

    @property
    def key(self) -> str:
        return str(self.session.pk)

    @property
    def present(self) -> bool:
        return self.checked_in is not None and self.checked_out is not None and not self.flags

    @property
    def absent(self) -> bool:
        return self.checked_in is None and self.checked_out is None

    @property
    def needs_decision(self) -> bool:
        return not self.absent and bool(self.flags)


@dataclass
class ParticipantAttendance:
    enrolment: Enrolment
    sessions: list[SessionAttendance]

    def hours(self, accepted: set[tuple[int, int]], cap: Decimal) -> Decimal:
        total = sum(
            (
                item.session.hours
                for item in self.sessions
                if item.present or (item.needs_decision and (self.enrolment.pk, item.session.pk) in accepted)
            ),
            Decimal("0"),
        )
        return min(total, cap)


FLAG_LATE = _("遲到")
FLAG_EARLY = _("早退")
FLAG_NO_IN = _("未報到")
FLAG_NO_OUT = _("未簽退")


def _bounds(session: CourseSession) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(session.date, session.starts_at, tzinfo=zone)
    end = dt.datetime.combine(session.date, session.ends_at, tzinfo=zone)
    return start, end


def _flags(session: CourseSession, checked_in, checked_out) -> list[str]:
    start, end = _bounds(session)
    flags = []
    if checked_in is None:
        flags.append(str(FLAG_NO_IN))
    elif checked_in > start + CHECKIN_GRACE:
        flags.append(str(FLAG_LATE))
    if checked_out is None:
        flags.append(str(FLAG_NO_OUT))
    elif checked_out < end - CHECKIN_GRACE:
        flags.append(str(FLAG_EARLY))
    return flags


def attendance_of(course: Course) -> tuple[list[CourseSession], list[ParticipantAttendance]]:
    """Every admitted participant × every session, from the scans: three queries."""
    sessions = list(course.sessions.all())
    enrolments = list(
        course.enrolments.filter(status=EnrolmentStatus.ADMITTED)
        .select_related("person")
        .order_by("applied_at", "pk")
    )
    scans: dict[tuple[int, int, str], dt.datetime] = {
        (row.enrolment_id, row.session_id, row.kind): row.scanned_at
        for row in CheckIn.objects.filter(session__course=course).only(
            "enrolment_id", "session_id", "kind", "scanned_at"
        )
    }
    rows = []
    for enrolment in enrolments:
        items = []
        for session in sessions:
            checked_in = scans.get((enrolment.pk, session.pk, CheckKind.IN))
            checked_out = scans.get((enrolment.pk, session.pk, CheckKind.OUT))
            items.append(
                SessionAttendance(session, checked_in, checked_out, _flags(session, checked_in, checked_out))
            )
        rows.append(ParticipantAttendance(enrolment, items))
    return sessions, rows


@transaction.atomic
def attendance_from_checkins(*, actor: User, course: Course, accepted: set[tuple[int, int]]) -> int:
    """出席時數 from the scans: each admitted participant gets the hours of the sessions they were
    present at, plus the flagged ones the organiser accepted; the course becomes 待確認, ready for
    名單確認通過. Returns the number of participants with hours."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    services.require_course_manager(actor, course)
    if course.status not in ATTENDANCE_STATES:
        raise CheckInError(
            str(services.MSG_WRONG_STATE).format(status=course.get_status_display()), code="wrong_state"
        )
    message = services.course_not_over_message(course)
    if message is not None:
        raise CheckInError(message, code="course_not_over")
    sessions, rows = attendance_of(course)
    if not sessions:
        raise CheckInError(MSG_NO_SESSIONS, code="no_sessions")
    changed = []
    for row in rows:
        enrolment = row.enrolment
        enrolment.attended_hours = row.hours(accepted, course.hours)
        changed.append(enrolment)
    Enrolment.objects.bulk_update(changed, ["attended_hours"], batch_size=500)
    course.status = states.target("upload")
    course.save(update_fields=["status"])
    return sum(1 for row in changed if row.attended_hours)


# ------------------------------------------------------------------------------------------
# What the 報到 page keeps on the phone


def session_label(session: CourseSession) -> str:
    return f"{format_roc_date(session.date)} {session.starts_at:%H:%M}–{session.ends_at:%H:%M}"


def page_data(course: Course) -> dict:
    """The course's sessions, its enrolments (token, masked name, school, state) and the scans so
    far: what the phone needs to answer a scan with no network. Names are masked; no IDs."""
    sessions = list(course.sessions.all())
    participants = []
    for enrolment, school in selectors.participants_with_school(course, statuses=None):
        enrolment.course = course
        participants.append(
            {
                "token": token_for(enrolment),
                "number": enrolment.number,
                "name": enrolment.person.masked_name,
                "school": school,
                "admitted": enrolment.status == EnrolmentStatus.ADMITTED,
                "status": enrolment.get_status_display(),
            }
        )
    records = [
        {"session": session_id, "number": number, "kind": kind, "at": _stamp(at)}
        for session_id, number, kind, at in CheckIn.objects.filter(session__course=course).values_list(
            "session_id", "enrolment__number", "kind", "scanned_at"
        )
    ]
    today = timezone.localdate()
    return {
        "course": {"code": course.code, "title": course.title},
        "sessions": [{"id": s.pk, "label": session_label(s), "today": s.date == today} for s in sessions],
        "participants": participants,
        "records": records,
        "kinds": {value: str(label) for value, label in CheckKind.choices},
        "messages": {
            "recorded": str(MSG_RECORDED),
            "already": str(MSG_ALREADY),
            "not_admitted": str(MSG_NOT_ADMITTED),
            "other_course": str(MSG_OTHER_COURSE),
            "invalid_token": str(MSG_INVALID_TOKEN),
        },
    }


def admitted_codes(enrolments) -> list[tuple[Enrolment, str]]:
    """我的研習報名: (enrolment, the QR code as SVG) of each admitted course still ahead or running."""
    return [
        (enrolment, qr_svg(token_for(enrolment)))
        for enrolment in enrolments
        if enrolment.status == EnrolmentStatus.ADMITTED
        and enrolment.course.status in CHECKIN_STATES
        and enrolment.course.code
    ]
