"""合作平臺: credentials of partner units and the hours they push (issue 11 point 6).

Services the operator's screen and the API call; the API itself (django-ninja) is courses/api.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import national_id, permissions
from accounts.models import Person, Unit, User
from accounts.permissions import Perm
from courses import states
from courses.models import Course, HoursSource, IssuedHours, PartnerCredential
from courses.services import CourseError

TOKEN_PREFIX = "pt_"
MAX_RECORDS = 1000

MSG_ALREADY_ISSUED = _("此單位已有有效的憑證，請先撤銷再核發新憑證。")
MSG_ALREADY_REVOKED = _("此憑證已撤銷。")

# Per-record reasons of the API: plain text for a machine's log; never the record's ID.
R_COURSE = "課程代碼不存在，或不是貴單位開設的課程"
R_COURSE_STATE = "課程尚未開放或已取消，不能登錄時數"
R_NATIONAL_ID = "身分證字號或居留證號格式不正確"
# One neutral reason for an unknown ID and for a known ID with another name: an ID alone confirms
# nothing (issue 16 point 8).
R_PERSON = "身分證字號與姓名不符合人員名冊"
R_DATE = "date 須為課程上課期間內、且不晚於今天的日期（YYYY-MM-DD）"
R_HOURS = "hours 須大於 0、不超過課程研習時數，最多一位小數"
R_OVER_COURSE = "此人員於本課程的時數合計將超過課程研習時數"
R_DUPLICATE = "同一人員、課程與日期在批次中重複"
R_CONFLICT = "此筆時數已核發且時數不同；更正請由開課單位申請"
R_TOO_MANY = f"一批最多 {MAX_RECORDS} 筆"
R_EMPTY = "批次沒有任何資料"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credential_issue(*, actor: User, unit: Unit) -> tuple[PartnerCredential, str]:
    """A new credential for the unit; returns it with the token, which is never shown again."""
    permissions.require(actor, Perm.OPERATOR_ADMIN)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            credential = PartnerCredential.objects.create(
                unit=unit, token_hash=_hash(token), prefix=token[:10], issued_by=actor
            )
    except IntegrityError as error:
        raise CourseError(MSG_ALREADY_ISSUED, code="credential_exists") from error
    return credential, token


def credential_revoke(*, actor: User, credential: PartnerCredential) -> PartnerCredential:
    permissions.require(actor, Perm.OPERATOR_ADMIN)
    with transaction.atomic():
        credential = PartnerCredential.objects.select_for_update().get(pk=credential.pk)
        if credential.revoked_at is not None:
            raise CourseError(MSG_ALREADY_REVOKED, code="credential_revoked")
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    return credential


def authenticate(token: str) -> PartnerCredential | None:
    """The live credential of a token, or None (unknown or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    credential = (
        PartnerCredential.objects.select_related("unit")
        .filter(token_hash=_hash(token), revoked_at__isnull=True)
        .first()
    )
    if credential is not None:
        PartnerCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
    return credential


@dataclass
class BatchResult:
    created: int
    unchanged: int


class BatchRefused(Exception):
    """The whole batch is refused; errors: [{"index": i, "reasons": [...]}]."""

    def __init__(self, errors: list[dict]):
        super().__init__("batch refused")
        self.errors = errors


MAX_HOURS = Decimal("99999.9")  # what IssuedHours.hours holds


def _hours(value) -> Decimal | None:
    """A positive number of hours with at most one decimal, or None. Numbers only: a bool (JSON
    `true`) or a string is not a number of hours."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        number = Decimal(str(value))
        # Bounded before quantize, which raises on huge magnitudes (1e27 answered 500, issue 16).
        if not number.is_finite() or not 0 < number <= MAX_HOURS:
            return None
        if number != number.quantize(Decimal("0.1")):
            return None
    except (InvalidOperation, ValueError):
        return None
    return number


def _same_name(person: Person, name) -> bool:
    return isinstance(name, str) and person.name == name.strip()


def partner_hours_submit(*, credential: PartnerCredential, records: list[dict]) -> BatchResult:
    """Issue hours for the partner's own courses. Every record is checked first; any bad record
    refuses the whole batch. A record already issued with the same hours is unchanged (a resend
    changes nothing); with other hours it is a conflict (corrections go through 更正).

    Each record names the person by ID and name; a pair not on the roster gets one neutral reason.
    Dates lie within the course's dates and not after today; a person's hours for one course,
    already issued (by any source) and new together, never exceed the course's hours (issue 16
    point 7): records of several days cannot add up past it."""
    if not records:
        raise BatchRefused([{"index": None, "reasons": [R_EMPTY]}])
    if len(records) > MAX_RECORDS:
        raise BatchRefused([{"index": None, "reasons": [R_TOO_MANY]}])
    codes = {str(r.get("course_code") or "").strip() for r in records}
    courses = {c.code: c for c in Course.objects.filter(code__in=codes, organiser=credential.unit)}
    ids = {}
    for record in records:
        checked = national_id.check(str(record.get("national_id") or ""))
        ids[id(record)] = checked if isinstance(checked, str) else None
    digests = {national_id.digest(v) for v in ids.values() if v}
    people = {p.national_id_digest: p for p in Person.objects.filter(national_id_digest__in=digests)}

    today = timezone.localdate()
    errors, rows, seen = [], [], set()
    for index, record in enumerate(records):
        reasons = []
        course = courses.get(str(record.get("course_code") or "").strip())
        if course is None:
            reasons.append(R_COURSE)
        elif not states.allows("partner_hours", course.status):
            reasons.append(R_COURSE_STATE)
        number = ids[id(record)]
        person = people.get(national_id.digest(number)) if number else None
        if person is not None and not _same_name(person, record.get("name")):
            person = None
        if number is None:
            reasons.append(R_NATIONAL_ID)
        elif person is None:
            reasons.append(R_PERSON)
        try:
            day = dt.date.fromisoformat(str(record.get("date") or ""))
        except ValueError:
            day = None
        if (
            day is None
            or day > today
            or (
                course is not None
                and not (
                    course.start_date and course.end_date and course.start_date <= day <= course.end_date
                )
            )
        ):
            reasons.append(R_DATE)
        hours = _hours(record.get("hours"))
        if hours is None or hours <= 0 or (course is not None and hours > course.hours):
            reasons.append(R_HOURS)
        if not reasons:
            key = (course.pk, person.pk, day)
            if key in seen:
                reasons.append(R_DUPLICATE)
            seen.add(key)
            rows.append((index, course, person, day, hours))
        if reasons:
            errors.append({"index": index, "reasons": reasons})
    if errors:
        raise BatchRefused(errors)

    with transaction.atomic():
        # The course rows are locked (in a fixed order) so two batches for one course queue: the
        # totals below are then the truth when the new rows are written.
        course_ids = sorted({row[1].pk for row in rows})
        list(Course.objects.select_for_update().filter(pk__in=course_ids).order_by("pk").values_list("pk"))
        existing, totals = {}, {}
        for h in IssuedHours.objects.filter(course__in=course_ids, person__in={row[2].pk for row in rows}):
            existing[(h.course_id, h.person_id, h.date)] = h.hours
            totals[(h.course_id, h.person_id)] = totals.get((h.course_id, h.person_id), 0) + h.hours
        new, unchanged, adding = [], 0, {}
        for index, course, person, day, hours in rows:
            before = existing.get((course.pk, person.pk, day))
            if before is None:
                new.append(
                    IssuedHours(
                        person=person, course=course, date=day, hours=hours, source=HoursSource.PARTNER
                    )
                )
                adding.setdefault((course, person.pk), []).append((index, hours))
            elif before == hours:
                unchanged += 1
            else:
                errors.append({"index": index, "reasons": [R_CONFLICT]})
        for (course, person_id), added in adding.items():
            if totals.get((course.pk, person_id), 0) + sum(hours for _, hours in added) > course.hours:
                errors.extend({"index": index, "reasons": [R_OVER_COURSE]} for index, _ in added)
        if errors:
            errors.sort(key=lambda error: error["index"])
            raise BatchRefused(errors)
        # A concurrent resend of the same batch: the natural key keeps one row, and nothing fails.
        IssuedHours.objects.bulk_create(new, ignore_conflicts=True)
    return BatchResult(created=len(new), unchanged=unchanged)
