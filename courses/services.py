"""Write use-cases of courses (SPEC §5): register, open, enrol, admit, upload attendance, confirm, correct.

Every service takes the acting user first, checks permission through accounts.permissions, runs in
one transaction and locks the course row where two requests could race (enrolment, the waiting
list, confirmation). A refusal raises CourseError with the message the user reads.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import Person, Stage, Unit, UnitKind, User
from accounts.permissions import Perm
from core import reaper
from core.dataexchange import ImportRefused
from core.refusals import Kind, Refused
from core.roc import academic_year, format_roc_date, roc_year
from courses import attendance, states
from courses.choices import Admission
from courses.models import (
    ACTIVE_ENROLMENT,
    AdmissionSkip,
    AttendanceUpload,
    AudienceStage,
    Certificate,
    CodeCounter,
    CorrectionStatus,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    HoursCorrection,
    HoursSource,
    IssuedHours,
    KindergartenFeedRecord,
    UploadStatus,
)
from courses.selectors import APPROVE_CORRECTION, MANAGE_COURSE
from teachers import reassign
from teachers.models import Membership

MSG_FORBIDDEN = _("您沒有執行此課程作業的權限。")
MSG_NOT_FOUND = _("找不到此研習課程。")
MSG_CORRECTION_NOT_FOUND = _("找不到此研習時數更正申請。")
MSG_WRONG_STATE = _("課程目前為「{status}」，不能執行此作業。")
MSG_OPEN_NEEDS = _("開放報名前，請先填妥上課日期、研習時數、名額及報名時間。")
MSG_NOT_TEACHER = _("只有教師個人帳號可以報名研習課程。")
MSG_WINDOW_CLOSED = _("目前不在此課程的報名時間內。")
MSG_ALREADY_ENROLLED = _("您已報名此課程。")
MSG_NOT_ENROLLED = _("您沒有報名此課程。")
MSG_NOT_ADMITTED = _("您目前沒有此課程的錄取資格可以放棄。")
MSG_COURSE_STARTED = _("課程已開始，不能再放棄錄取。")
MSG_NOT_IN_AUDIENCE = _("此課程的研習對象不包含您目前服務的單位。")
MSG_NOT_REVIEW = _("此課程為先到先錄取，不需審核。")
MSG_TOO_MANY_ADMITTED = _("錄取人數超過名額（尚餘 {seats} 名）。")
MSG_NOT_APPLICANT = _("所選人員不是此課程的待審核報名者。")
MSG_NOT_WAITING = _("所選人員不是此課程的候補者。")
MSG_NOT_ANNOUNCED = _("尚未公告錄取名單；請先從報名者中公告錄取。")
MSG_ALREADY_ANNOUNCED = _("錄取名單已公告；請從候補名單依序錄取。")
MSG_NONE_CHOSEN = _("請勾選要錄取的人員。")
MSG_SKIP_NEEDS_REASON = _("錄取名單略過了 {n} 位較早報名的人員，請填寫略過理由。")
MSG_NO_ATTENDANCE = _("尚未上傳出席資料，不能確認名單。")
MSG_COURSE_NOT_OVER = _("課程最後一天（{date}）起才能上傳出席資料或名單確認通過。")
MSG_CORRECTION_RANGE = _("更正後時數須介於 0 與課程研習時數之間，最多一位小數。")
MSG_CORRECTION_SAME = _("更正後時數與目前時數相同。")
MSG_CORRECTION_NOT_PARTICIPANT = _("此人員不是本課程的錄取學員。")
MSG_CORRECTION_PENDING = _("此人員已有一筆待核定的更正。")
MSG_CORRECTION_DECIDED = _("此更正已核定過。")


class CourseError(Refused):
    """core.refusals.Refused of the course rules: every raise names its rule (`code`); the kind
    is CONFLICT (409) unless it says otherwise."""

    def __init__(self, message, details: list[str] | None = None, *, code: str, kind: Kind = Kind.CONFLICT):
        super().__init__(message, code=code, kind=kind, details=details)


def _require_state(course: Course, action: str) -> None:
    """The course state machine (courses.states): refuse `action` from a state it does not run from."""
    if not states.allows(action, course.status):
        raise _wrong_state(course)


def _denied(kind: Kind, not_found=None) -> CourseError:
    """The refusal of a ScopedPerm.denial: 403 without the permission, 404 outside the scope."""
    if kind == Kind.NOT_VISIBLE:
        return CourseError(not_found or MSG_NOT_FOUND, code="not_found", kind=Kind.NOT_VISIBLE)
    return CourseError(MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)


def _wrong_state(course: Course) -> CourseError:
    return CourseError(MSG_WRONG_STATE.format(status=course.get_status_display()), code="wrong_state")


def may_manage_course(actor: User, course: Course) -> bool:
    return MANAGE_COURSE.allows(actor, course)


def require_course_manager(actor: User, course: Course) -> None:
    """The one guard of 研習課程管理 (these services, courses.checkin, courses.feedback): 404 for a
    course outside the actor's scope, 403 without the permission (MANAGE_COURSE.denial)."""
    denial = MANAGE_COURSE.denial(actor, course)
    if denial is not None:
        raise _denied(denial)


def _lock(course: Course) -> Course:
    return Course.objects.select_for_update().get(pk=course.pk)


def course_has_ended(course: Course, today: dt.date | None = None) -> bool:
    """Attendance and 名單確認通過 only from the course's last day (Asia/Taipei) on, SPEC §5."""
    today = today or timezone.localdate()
    return course.end_date is not None and today >= course.end_date


def course_not_over_message(course: Course) -> str | None:
    """Why attendance and 名單確認通過 must wait (None once they may be done)."""
    if course_has_ended(course):
        return None
    return str(MSG_COURSE_NOT_OVER).format(date=format_roc_date(course.end_date) if course.end_date else "—")


def _require_course_ended(course: Course) -> None:
    message = course_not_over_message(course)
    if message is not None:
        raise CourseError(message, code="course_not_over")


def _after_commit(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args))


# ------------------------------------------------------------------------------------------
# 研習課程登錄


def authority_of(unit: Unit) -> Unit | None:
    return unit if unit.kind == UnitKind.AUTHORITY else unit.authority


def _save_course(course: Course, *, tags: Iterable, stages: Iterable[str], authorities: Iterable) -> Course:
    course.full_clean(exclude=["code"])
    course.save()
    # No stage chosen means every stage; stored as all six so the search needs one indexed look-up.
    stages = list(stages) or list(Stage.values)
    course.tags.set(tags)
    course.audience_authorities.set(authorities)
    AudienceStage.objects.filter(course=course).exclude(stage__in=list(stages)).delete()
    have = set(AudienceStage.objects.filter(course=course).values_list("stage", flat=True))
    AudienceStage.objects.bulk_create(
        [AudienceStage(course=course, stage=stage) for stage in stages if stage not in have]
    )
    return course


@transaction.atomic
def course_register(
    *, actor: User, fields: dict, tags: Iterable = (), stages: Iterable[str] = (), authorities: Iterable = ()
) -> Course:
    """研習課程登錄: a new course of the actor's unit, in 登錄中 (no public code yet)."""
    permissions.require(actor, Perm.COURSE_REGISTER)
    unit = permissions.unit_of(actor)
    course = Course(
        **fields,
        organiser=unit,
        authority=authority_of(unit),
        registered_by=actor,
        status=CourseStatus.REGISTERING,
    )
    return _save_course(course, tags=tags, stages=stages, authorities=authorities)


@transaction.atomic
def course_update(
    *,
    actor: User,
    course: Course,
    fields: dict,
    tags: Iterable = (),
    stages: Iterable[str] = (),
    authorities: Iterable = (),
) -> Course:
    """Edit a course while it is 登錄中 or 開放報名; the capacity never drops below those admitted."""
    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "edit")
    for name, value in fields.items():
        setattr(course, name, value)
    admitted = course.enrolments.filter(status=EnrolmentStatus.ADMITTED).count()
    if course.capacity is not None and course.capacity < admitted:
        raise CourseError(
            MSG_TOO_MANY_ADMITTED.format(seats=0), code="capacity_below_admitted", kind=Kind.INVALID
        )
    _save_course(course, tags=tags, stages=stages, authorities=authorities)
    _promote_waiting(course)
    return course


def _next_code(today: dt.date) -> str:
    """A public 課程代碼: ROC year and a number from a per-year counter, locked, so codes never repeat."""
    year = roc_year(today.year)
    CodeCounter.objects.get_or_create(year=year)
    counter = CodeCounter.objects.select_for_update().get(year=year)
    while True:
        counter.last += 1
        code = f"{year}{counter.last:06d}"
        if not Course.objects.filter(code=code).exists():  # an imported course may hold it already
            break
    counter.save(update_fields=["last"])
    return code


@transaction.atomic
def course_open(*, actor: User, course: Course) -> Course:
    """登錄中 → 開放報名: the course gets its public code and appears in the search."""
    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "open")
    if not (
        course.start_date and course.end_date and course.hours and course.capacity and course.enrol_closes_at
    ):
        raise CourseError(MSG_OPEN_NEEDS, code="open_needs_details")
    if not course.code:
        course.code = _next_code(timezone.localdate())
    course.status = states.target("open")
    course.save(update_fields=["code", "status"])
    return course


@transaction.atomic
def course_close_enrolment(*, actor: User, course: Course) -> Course:
    """開放報名 → 報名截止."""
    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "close")
    course.status = states.target("close")
    course.save(update_fields=["status"])
    return course


@transaction.atomic
def course_cancel(*, actor: User, course: Course) -> Course:
    """Any state before 名單確認通過 → 已取消; every teacher still enrolled is told by e-mail."""
    from courses import tasks  # courses.tasks imports this module

    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "cancel")
    course.status = states.target("cancel")
    course.save(update_fields=["status"])
    for enrolment_id in course.enrolments.filter(status__in=ACTIVE_ENROLMENT).values_list("pk", flat=True):
        _after_commit(tasks.send_enrolment_notice, enrolment_id, "cancelled")
    return course


# ------------------------------------------------------------------------------------------
# Enrolment (報名)


def _person_of_teacher(actor: User) -> Person:
    if not permissions.has_perm(actor, Perm.COURSE_ENROL) or not actor.person_id:
        raise CourseError(MSG_NOT_TEACHER, code="not_a_teacher", kind=Kind.FORBIDDEN)
    return actor.person


def _in_audience(course: Course, person: Person) -> bool:
    """Stages and authorities left empty mean every teacher."""
    stages = [row.stage for row in course.audience_stages.all()]
    authorities = {unit.pk for unit in course.audience_authorities.all()}
    if not stages and not authorities:
        return True
    membership = Membership.objects.current().filter(person=person).select_related("unit").first()
    if membership is None:
        return False
    unit = membership.unit
    if stages and unit.stage not in stages:
        return False
    return not authorities or (authority_of(unit) is not None and authority_of(unit).pk in authorities)


def _admitted_count(course: Course) -> int:
    return course.enrolments.filter(status=EnrolmentStatus.ADMITTED).count()


def _promote_waiting(course: Course) -> list[Enrolment]:
    """候補遞補 in 先到先錄取: free seats go to the waiting list in enrolment order, at once.

    The caller holds the course lock. In 審核錄取 nothing fills itself: the unit admits from the
    waiting list (course_admit_waiting).
    """
    from courses import tasks  # courses.tasks imports this module

    if course.admission != Admission.FIRST_COME:
        return []
    if course.status not in states.ENROLMENTS_LIVE or not course.capacity:
        return []
    free = course.capacity - _admitted_count(course)
    if free <= 0:
        return []
    promoted = list(
        course.enrolments.filter(status=EnrolmentStatus.WAITING).order_by("applied_at", "pk")[:free]
    )
    now = timezone.now()
    for enrolment in promoted:
        enrolment.status = EnrolmentStatus.ADMITTED
        enrolment.admitted_at = now
        enrolment.save(update_fields=["status", "admitted_at"])
        _after_commit(tasks.send_enrolment_notice, enrolment.pk, "promoted")
    return promoted


@transaction.atomic
def enrolment_enrol(*, actor: User, course: Course) -> Enrolment:
    """報名, in the order people enrol (SPEC §5).

    先到先錄取: admitted while seats last (and nobody waits before), then 候補. 審核錄取: 待審核 until
    the unit announces (公告錄取名單); after it, a new enrolment joins the end of the waiting list,
    whatever seats are free: the unit admits from that list in order.

    The course row is locked, so concurrent enrolments are counted one after the other, get their
    queue time (applied_at) in the order they took the lock, and never exceed the capacity; the
    unique (course, person) constraint holds against a double click.
    """
    from courses import tasks  # courses.tasks imports this module

    person = _person_of_teacher(actor)
    course = _lock(course)
    now = timezone.now()
    if not course.enrolment_open_at(now):
        raise CourseError(MSG_WINDOW_CLOSED, code="enrolment_closed")
    enrolment = Enrolment.objects.filter(course=course, person=person).first()
    if enrolment is not None and enrolment.status in ACTIVE_ENROLMENT:
        raise CourseError(MSG_ALREADY_ENROLLED, code="already_enrolled")
    if not _in_audience(course, person):
        raise CourseError(MSG_NOT_IN_AUDIENCE, code="not_in_audience", kind=Kind.FORBIDDEN)
    if course.admission == Admission.REVIEW:
        announced = course.admission_announced_at is not None
        status = EnrolmentStatus.WAITING if announced else EnrolmentStatus.APPLIED
    else:
        _promote_waiting(course)  # a seat freed by any path goes to those already waiting first
        if _admitted_count(course) < course.capacity:
            status = EnrolmentStatus.ADMITTED
        else:
            status = EnrolmentStatus.WAITING
    if enrolment is None:
        enrolment = Enrolment(course=course, person=person)
    enrolment.status = status
    enrolment.applied_at = now  # a re-enrolment joins the end of the queue
    enrolment.admitted_at = now if status == EnrolmentStatus.ADMITTED else None
    enrolment.save()
    if status == EnrolmentStatus.ADMITTED:
        _after_commit(tasks.send_enrolment_notice, enrolment.pk, "admitted")
    elif status == EnrolmentStatus.WAITING:
        _after_commit(tasks.send_enrolment_notice, enrolment.pk, "waiting")
    return enrolment


def _own_enrolment(person: Person, course: Course) -> Enrolment:
    enrolment = Enrolment.objects.select_for_update().filter(course=course, person=person).first()
    if enrolment is None or enrolment.status not in ACTIVE_ENROLMENT:
        raise CourseError(MSG_NOT_ENROLLED, code="not_enrolled")
    return enrolment


@transaction.atomic
def enrolment_cancel(*, actor: User, course: Course) -> Enrolment:
    """取消報名, inside the enrolment window; a freed seat goes to the first on the waiting list."""
    person = _person_of_teacher(actor)
    course = _lock(course)
    if not course.enrolment_open_at(timezone.now()):
        raise CourseError(MSG_WINDOW_CLOSED, code="enrolment_closed")
    enrolment = _own_enrolment(person, course)
    enrolment.status = EnrolmentStatus.CANCELLED
    enrolment.save(update_fields=["status"])
    _promote_waiting(course)
    return enrolment


@transaction.atomic
def enrolment_decline(*, actor: User, course: Course) -> Enrolment:
    """放棄錄取: an admitted teacher gives the place up before the course starts; 候補 moves up."""
    person = _person_of_teacher(actor)
    course = _lock(course)
    _require_state(course, "decline")
    if course.start_date and timezone.localdate() >= course.start_date:
        raise CourseError(MSG_COURSE_STARTED, code="course_started")
    enrolment = _own_enrolment(person, course)
    if enrolment.status != EnrolmentStatus.ADMITTED:
        raise CourseError(MSG_NOT_ADMITTED, code="not_admitted")
    enrolment.status = EnrolmentStatus.DECLINED
    enrolment.save(update_fields=["status"])
    _promote_waiting(course)
    return enrolment


def may_cancel_enrolment(enrolment: Enrolment, course: Course, now: dt.datetime | None = None) -> bool:
    """取消報名 is offered for an enrolment still in play while the enrolment window is open
    (the checks of enrolment_cancel)."""
    return enrolment.status in ACTIVE_ENROLMENT and course.enrolment_open_at(now or timezone.now())


def may_decline(enrolment: Enrolment | None, course: Course, today: dt.date | None = None) -> bool:
    """放棄錄取 is offered to an admitted teacher while enrolments are live, before the first day
    (the checks of enrolment_decline)."""
    if enrolment is None or enrolment.status != EnrolmentStatus.ADMITTED:
        return False
    today = today or timezone.localdate()
    return states.allows("decline", course.status) and not (course.start_date and today >= course.start_date)


def may_admit_now(course: Course) -> bool:
    """審核錄取 is offered while there is someone to admit: applicants before the announcement;
    after it, anyone waiting while a seat is free."""
    if course.admission != Admission.REVIEW or not states.allows("admit", course.status):
        return False
    if course.admission_announced_at is None:
        return course.enrolments.filter(status=EnrolmentStatus.APPLIED).exists()
    return bool(seats_left(course)) and course.enrolments.filter(status=EnrolmentStatus.WAITING).exists()


def admission_queue(course: Course) -> list[Enrolment]:
    """Whom 審核錄取 offers, in enrolment order: the applicants before the announcement, the
    waiting list after it."""
    status = EnrolmentStatus.APPLIED if course.admission_announced_at is None else EnrolmentStatus.WAITING
    return list(course.enrolments.filter(status=status).select_related("person").order_by("applied_at", "pk"))


def _passed_over(queue: list[Enrolment], chosen: set[int]) -> list[Enrolment]:
    """Those left out who enrolled before someone chosen: each needs the recorded reason."""
    positions = [index for index, enrolment in enumerate(queue) if enrolment.pk in chosen]
    if not positions:
        return []
    return [enrolment for enrolment in queue[: max(positions)] if enrolment.pk not in chosen]


def _admit_from(
    *, actor: User, course: Course, queue: list[Enrolment], enrolment_ids, skip_reason: str, not_in_queue
) -> list[Enrolment]:
    """Admit the chosen ones of `queue` (locked rows, enrolment order): within the free seats, and
    with a recorded reason for every earlier enrolee passed over."""
    from courses import tasks  # courses.tasks imports this module

    by_pk = {enrolment.pk: enrolment for enrolment in queue}
    chosen = {int(pk) for pk in enrolment_ids}
    if any(pk not in by_pk for pk in chosen):
        raise CourseError(not_in_queue, code="not_in_queue", kind=Kind.INVALID)
    seats = course.capacity - _admitted_count(course)
    if len(chosen) > seats:
        raise CourseError(
            MSG_TOO_MANY_ADMITTED.format(seats=max(seats, 0)), code="too_many_admitted", kind=Kind.INVALID
        )
    passed_over = _passed_over(queue, chosen)
    reason = (skip_reason or "").strip()
    if passed_over and not reason:
        raise CourseError(
            MSG_SKIP_NEEDS_REASON.format(n=len(passed_over)), code="skip_needs_reason", kind=Kind.INVALID
        )
    now = timezone.now()
    admitted = [enrolment for enrolment in queue if enrolment.pk in chosen]
    for enrolment in admitted:
        enrolment.status, enrolment.admitted_at = EnrolmentStatus.ADMITTED, now
        enrolment.save(update_fields=["status", "admitted_at"])
        _after_commit(tasks.send_enrolment_notice, enrolment.pk, "admitted")
    AdmissionSkip.objects.bulk_create(
        [
            AdmissionSkip(course=course, skipped=enrolment, reason=reason, decided_by=actor)
            for enrolment in passed_over
        ]
    )
    return admitted


def _lock_review_course(actor: User, course: Course) -> Course:
    course = _lock(course)
    require_course_manager(actor, course)
    if course.admission != Admission.REVIEW:
        raise CourseError(MSG_NOT_REVIEW, code="not_review_admission")
    _require_state(course, "admit")
    return course


def _locked_queue(course: Course, status: str) -> list[Enrolment]:
    return list(
        course.enrolments.select_for_update()
        .filter(status=status)
        .select_related("person")
        .order_by("applied_at", "pk")
    )


@transaction.atomic
def course_announce_admission(
    *, actor: User, course: Course, enrolment_ids: Iterable[int], skip_reason: str = ""
) -> list[Enrolment]:
    """公告錄取名單 (審核錄取): the unit admits the chosen applicants; the others wait (候補), in
    enrolment order. Leaving out someone who enrolled before a chosen one needs a reason."""
    from courses import tasks  # courses.tasks imports this module

    course = _lock_review_course(actor, course)
    if course.admission_announced_at is not None:
        raise CourseError(MSG_ALREADY_ANNOUNCED, code="already_announced")
    applicants = _locked_queue(course, EnrolmentStatus.APPLIED)
    admitted = _admit_from(
        actor=actor,
        course=course,
        queue=applicants,
        enrolment_ids=enrolment_ids,
        skip_reason=skip_reason,
        not_in_queue=MSG_NOT_APPLICANT,
    )
    for enrolment in applicants:
        if enrolment.status == EnrolmentStatus.APPLIED:
            enrolment.status = EnrolmentStatus.WAITING
            enrolment.save(update_fields=["status"])
            _after_commit(tasks.send_enrolment_notice, enrolment.pk, "waiting")
    course.admission_announced_at = timezone.now()
    course.save(update_fields=["admission_announced_at"])
    return admitted


@transaction.atomic
def course_admit_waiting(
    *, actor: User, course: Course, enrolment_ids: Iterable[int], skip_reason: str = ""
) -> list[Enrolment]:
    """審核錄取 after the announcement: admit from the waiting list, offered in enrolment order,
    whenever seats are free; passing over an earlier 候補 needs a recorded reason."""
    course = _lock_review_course(actor, course)
    if course.admission_announced_at is None:
        raise CourseError(MSG_NOT_ANNOUNCED, code="not_announced")
    enrolment_ids = list(enrolment_ids)
    if not enrolment_ids:
        raise CourseError(MSG_NONE_CHOSEN, code="none_chosen", kind=Kind.INVALID)
    return _admit_from(
        actor=actor,
        course=course,
        queue=_locked_queue(course, EnrolmentStatus.WAITING),
        enrolment_ids=enrolment_ids,
        skip_reason=skip_reason,
        not_in_queue=MSG_NOT_WAITING,
    )


# ------------------------------------------------------------------------------------------
# 資料上傳: attendance


MSG_UPLOAD_TOO_BIG = _("檔案超過 %(mb)s MB 的上限，請分成數個檔案上傳；未寫入任何資料。")


@transaction.atomic
def attendance_upload_create(
    *, actor: User, course: Course, filename: str, content: bytes
) -> AttendanceUpload:
    """Store the file and queue its processing (the task runs after the commit); a file over
    settings.UPLOAD_MAX_BYTES is refused here too, whoever calls (the form says it first)."""
    from courses import tasks  # courses.tasks imports this module

    if len(content) > settings.UPLOAD_MAX_BYTES:
        raise CourseError(
            MSG_UPLOAD_TOO_BIG % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)},
            code="file_too_big",
            kind=Kind.INVALID,
        )
    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "upload")
    _require_course_ended(course)
    upload = AttendanceUpload.objects.create(
        course=course, uploaded_by=actor, filename=filename, content=content
    )
    _after_commit(tasks.process_attendance_upload, upload.pk)
    return upload


def _set_progress(upload: AttendanceUpload, **fields) -> None:
    # Outside the write transaction, so the page polling the job sees it move; each step is a
    # heartbeat for the reaper (core.reaper).
    AttendanceUpload.objects.filter(pk=upload.pk).update(heartbeat_at=timezone.now(), **fields)


UPLOAD_LOCK_CLASS = 7_118  # first key of pg_advisory_lock(class, upload id): the worker's hold
MSG_UPLOAD_INTERRUPTED = _(
    "處理程序在處理途中停止（工作程序中斷），出席資料沒有寫入。請按「重新處理」再試一次。"
)
# An upload 排隊中 this long that no worker has started: its task message is taken as lost (the
# broker restarted without persistence) and the reaper marks it 中斷.
UPLOAD_QUEUE_TIMEOUT = reaper.UPLOAD_QUEUE_TIMEOUT  # 90 min, as every upload kind
MSG_UPLOAD_LOST = _(
    "此上傳排隊超過 %(minutes)s 分鐘仍未開始處理（背景工作佇列可能已遺失），出席資料沒有寫入。"
    "請重新上傳檔案（或按「重新處理」）。"
)
MSG_UPLOAD_NOT_RETRYABLE = _("只有「中斷」的上傳可以重新處理；請重新上傳檔案。")


def _upload_interrupted(upload: AttendanceUpload) -> dict:
    return {
        "status": UploadStatus.INTERRUPTED,
        "messages": [str(MSG_UPLOAD_INTERRUPTED)],
        "finished_at": timezone.now(),
    }


def _upload_lost(upload: AttendanceUpload) -> dict:
    minutes = int(UPLOAD_QUEUE_TIMEOUT.total_seconds() // 60)
    return {**_upload_interrupted(upload), "messages": [str(MSG_UPLOAD_LOST) % {"minutes": minutes}]}


# The reaper (core.reaper, run by Celery beat) marks 中斷 an upload whose worker died, and one
# 排隊中 longer than UPLOAD_QUEUE_TIMEOUT that no worker took (since the upload, or the 重新處理,
# which sets heartbeat_at).
UPLOAD_JOB = reaper.JobKind(
    key="courses.attendance_upload",
    model=AttendanceUpload,
    working={"status": UploadStatus.RUNNING},
    interrupted=_upload_interrupted,
    lock_class=UPLOAD_LOCK_CLASS,
    heartbeat_field="heartbeat_at",
    queued={"status": UploadStatus.QUEUED},
    lost=_upload_lost,
    queued_timeout=UPLOAD_QUEUE_TIMEOUT,
    queued_since=("heartbeat_at", "created_at"),
)


def _pause_for_tests() -> None:
    # The killed-worker test holds the upload here, 處理中（0%）, to kill its worker. Unset in production.
    seconds = float(os.environ.get("INSERVICE_UPLOAD_PAUSE_SECONDS", "0") or 0)
    if seconds:
        time.sleep(seconds)


def attendance_upload_process(upload_id: int) -> AttendanceUpload:
    """Claim a queued upload and process it, holding its advisory lock while the worker lives."""
    with reaper.held(UPLOAD_LOCK_CLASS, upload_id):
        # A conditional claim: a task delivered twice, or a retry racing the reaper, works once.
        claimed = AttendanceUpload.objects.filter(pk=upload_id, status=UploadStatus.QUEUED).update(
            status=UploadStatus.RUNNING, progress=0, heartbeat_at=timezone.now()
        )
        upload = AttendanceUpload.objects.select_related("course").get(pk=upload_id)
        if not claimed:
            return upload
        _pause_for_tests()
        return _process_attendance(upload)


@transaction.atomic
def attendance_upload_retry(*, actor: User, course: Course, upload: AttendanceUpload) -> AttendanceUpload:
    """重新處理: an upload left 中斷 by a dead worker is queued again with the file it kept."""
    from courses import tasks  # courses.tasks imports this module

    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "upload")
    _require_course_ended(course)
    upload = AttendanceUpload.objects.select_for_update().get(pk=upload.pk, course=course)
    if upload.status != UploadStatus.INTERRUPTED or not bytes(upload.content):
        raise CourseError(MSG_UPLOAD_NOT_RETRYABLE, code="upload_not_retryable")
    upload.status, upload.progress, upload.messages = UploadStatus.QUEUED, 0, []
    upload.finished_at, upload.heartbeat_at = None, timezone.now()
    upload.save(update_fields=["status", "progress", "messages", "finished_at", "heartbeat_at"])
    _after_commit(tasks.process_attendance_upload, upload.pk)
    return upload


def _process_attendance(upload: AttendanceUpload) -> AttendanceUpload:
    """Validate every row, then write every attendance in one transaction, or nothing at all.

    The file is the participant list with 研習時數 filled in (courses.attendance). Participants left
    out of the file attended 0 hours. Messages name lines and reasons, never the IDs.
    """
    course = upload.course
    suffix = Path(upload.filename).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"attendance{suffix}"
        path.write_bytes(bytes(upload.content))
        try:
            attended, rows = _read_attendance(upload, course, path)
        except ImportRefused as refused:
            _set_progress(
                upload,
                status=UploadStatus.REFUSED,
                progress=100,
                messages=[str(refused), *refused.errors.lines()],
                finished_at=timezone.now(),
                content=b"",
            )
            upload.refresh_from_db()
            return upload
    with transaction.atomic():
        course = _lock(course)
        if not states.allows("upload", course.status):
            _set_progress(
                upload,
                status=UploadStatus.FAILED,
                progress=100,
                messages=[str(_wrong_state(course))],
                finished_at=timezone.now(),
                content=b"",
            )
            upload.refresh_from_db()
            return upload
        enrolments = list(course.enrolments.select_for_update().filter(status=EnrolmentStatus.ADMITTED))
        for enrolment in enrolments:
            enrolment.attended_hours = attended.get(enrolment.pk, Decimal("0"))
        Enrolment.objects.bulk_update(enrolments, ["attended_hours"], batch_size=500)
        course.status = states.target("upload")
        course.save(update_fields=["status"])
        AttendanceUpload.objects.filter(pk=upload.pk).update(
            status=UploadStatus.DONE,
            progress=100,
            rows=rows,
            messages=[f"已匯入 {len(attended)} 位學員的出席時數；課程狀態改為「待確認」。"],
            finished_at=timezone.now(),
            content=b"",
        )
    upload.refresh_from_db()
    return upload


def _read_attendance(upload: AttendanceUpload, course: Course, path: Path) -> tuple[dict[int, Decimal], int]:
    return attendance.read(course, path, lambda percent: _set_progress(upload, progress=percent))


# ------------------------------------------------------------------------------------------
# 名單確認通過 and 核發研習時數


@transaction.atomic
def course_confirm(*, actor: User, course: Course) -> int:
    """待確認 → 名單確認通過, and in the same transaction 核發研習時數, dated the course's last day.

    Returns the number of issued-hours records. The list is locked from here on: later changes go
    through a recorded correction (更正).
    """
    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "confirm")
    _require_course_ended(course)
    participants = list(
        course.enrolments.filter(status=EnrolmentStatus.ADMITTED).values_list("person_id", "attended_hours")
    )
    if any(hours is None for _, hours in participants):
        raise CourseError(MSG_NO_ATTENDANCE, code="no_attendance")
    records = [
        IssuedHours(
            person_id=person_id, course=course, date=course.end_date, hours=hours, source=HoursSource.COURSE
        )
        for person_id, hours in participants
        if hours > 0
    ]
    IssuedHours.objects.bulk_create(records, batch_size=1000)
    course.status = states.target("confirm")
    course.confirmed_at = timezone.now()
    course.save(update_fields=["status", "confirmed_at"])
    from courses import tasks  # courses.tasks imports this module

    # One task for the whole list: a queue message (and, in the worker, one mail connection) for
    # the course rather than one per participant.
    notified = list(
        course.enrolments.filter(status=EnrolmentStatus.ADMITTED, attended_hours__gt=0).values_list(
            "pk", flat=True
        )
    )
    if notified:
        _after_commit(tasks.send_enrolment_notices, notified, "hours_issued")
    return len(records)


# ------------------------------------------------------------------------------------------
# 更正 (corrections after confirmation)


@transaction.atomic
def correction_request(
    *, actor: User, course: Course, enrolment: Enrolment, hours_after: Decimal, reason: str
) -> HoursCorrection:
    """The course's unit asks for a change of one participant's issued hours, with a reason."""
    course = _lock(course)
    require_course_manager(actor, course)
    _require_state(course, "correct")
    if enrolment.course_id != course.pk or enrolment.status != EnrolmentStatus.ADMITTED:
        raise CourseError(MSG_CORRECTION_NOT_PARTICIPANT, code="correction_not_participant")
    if hours_after < 0 or hours_after > course.hours or hours_after != hours_after.quantize(Decimal("0.1")):
        raise CourseError(MSG_CORRECTION_RANGE, code="correction_range", kind=Kind.INVALID)
    record = IssuedHours.objects.filter(
        course=course, person_id=enrolment.person_id, date=course.end_date
    ).first()
    before = record.hours if record else Decimal("0")
    if before == hours_after:
        raise CourseError(MSG_CORRECTION_SAME, code="correction_same", kind=Kind.INVALID)
    if HoursCorrection.objects.filter(
        course=course, person_id=enrolment.person_id, status=CorrectionStatus.PENDING
    ).exists():
        raise CourseError(MSG_CORRECTION_PENDING, code="correction_pending")
    from courses import tasks  # courses.tasks imports this module

    correction = HoursCorrection.objects.create(
        course=course,
        person_id=enrolment.person_id,
        hours_before=before,
        hours_after=hours_after,
        reason=reason,
        requested_by=actor,
    )
    _after_commit(tasks.send_correction_request_notice, correction.pk)
    return correction


@transaction.atomic
def correction_decide(*, actor: User, correction: HoursCorrection, approve: bool) -> HoursCorrection:
    """The course's authority or the operator approves (the hours change) or rejects (nothing changes)."""
    correction = HoursCorrection.objects.select_for_update().select_related("course").get(pk=correction.pk)
    course = correction.course
    denial = APPROVE_CORRECTION.denial(actor, course)
    if denial is not None:
        raise _denied(denial, MSG_CORRECTION_NOT_FOUND)
    if correction.status != CorrectionStatus.PENDING:
        raise CourseError(MSG_CORRECTION_DECIDED, code="correction_decided")
    if approve:
        IssuedHours.objects.update_or_create(
            person_id=correction.person_id,
            course=course,
            date=course.end_date,
            defaults={"hours": correction.hours_after, "source": HoursSource.COURSE},
        )
        Enrolment.objects.filter(course=course, person_id=correction.person_id).update(
            attended_hours=correction.hours_after
        )
    now = timezone.now()
    if approve:
        # The certificates of this course and of its academic year no longer say what is true.
        Certificate.objects.filter(person_id=correction.person_id, superseded_at__isnull=True).filter(
            Q(course=course) | Q(course__isnull=True, academic_year=academic_year(course.end_date))
        ).update(superseded_at=now)
        from courses import tasks  # courses.tasks imports this module

        for enrolment_id in Enrolment.objects.filter(
            course=course, person_id=correction.person_id
        ).values_list("pk", flat=True):
            _after_commit(tasks.send_enrolment_notice, enrolment_id, "hours_corrected")
    correction.status = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    correction.decided_by = actor
    correction.decided_at = now
    correction.save(update_fields=["status", "decided_by", "decided_at"])
    return correction


# ------------------------------------------------------------------------------------------
# E-mail


def course_reminders_send(*, today: dt.date | None = None, days_ahead: int = 1) -> int:
    """The day before a course starts, each admitted teacher gets a reminder, once per course."""
    from courses import tasks  # courses.tasks imports this module

    today = today or timezone.localdate()
    due = Course.objects.filter(
        status__in=states.ENROLMENTS_LIVE,
        start_date__gt=today,
        start_date__lte=today + dt.timedelta(days=days_ahead),
        reminder_sent_at__isnull=True,
    ).values_list("pk", flat=True)
    sent = 0
    for course_id in due:
        # Claim the course with a conditional UPDATE, so two beat runs never both send.
        with transaction.atomic():
            if not Course.objects.filter(pk=course_id, reminder_sent_at__isnull=True).update(
                reminder_sent_at=timezone.now()
            ):
                continue
            admitted = list(
                Enrolment.objects.filter(course_id=course_id, status=EnrolmentStatus.ADMITTED).values_list(
                    "pk", flat=True
                )
            )
            if admitted:
                _after_commit(tasks.send_enrolment_notices, admitted, "reminder")
                sent += len(admitted)
    return sent


def seats_left(course: Course) -> int | None:
    if course.capacity is None:
        return None
    taken = getattr(course, "admitted_count", None)
    if taken is None:
        taken = _admitted_count(course)
    return max(0, course.capacity - taken)


# ------------------------------------------------------------------------------------------
# Merging two person records (the teachers.reassign hook): each mover moves this app's rows of the
# duplicate to the kept person, or refuses the whole merge naming what clashes.


def _courses_of(rows) -> str:
    return "、".join(
        f"{code or '未編碼'} {title}" for code, title in rows.values_list("course__code", "course__title")
    )


def _years_of(rows) -> str:
    return "、".join(str(year) for year in sorted(set(rows.values_list("academic_year", flat=True))))


MSG_MERGE_HOURS = _("兩筆人員資料在同一課程同一天都有研習時數（{which}），無法合併；請先更正研習時數。")
MSG_MERGE_ENROLMENT = _("兩筆人員資料都報名了同一門課程（{which}），無法合併；請先取消其中一筆報名。")
MSG_MERGE_CORRECTION = _(
    "兩筆人員資料在同一門課程（{which}）都有待核定的時數更正，無法合併；請先核定其中一筆。"
)
MSG_MERGE_FEED = _("兩筆人員資料在同一學年度（{which}）都有教保研習時數傳送紀錄，無法合併。")


def person_issued_hours_move(source: Person, target: Person) -> int:
    return reassign.move_rows(IssuedHours, source, target, clash=MSG_MERGE_HOURS, describe=_courses_of)


def person_enrolments_move(source: Person, target: Person) -> int:
    return reassign.move_rows(Enrolment, source, target, clash=MSG_MERGE_ENROLMENT, describe=_courses_of)


def person_corrections_move(source: Person, target: Person) -> int:
    return reassign.move_rows(
        HoursCorrection, source, target, clash=MSG_MERGE_CORRECTION, describe=_courses_of
    )


def person_certificates_move(source: Person, target: Person) -> int:
    return reassign.move_rows(Certificate, source, target, clash="", describe=str)


def person_feed_records_move(source: Person, target: Person) -> int:
    return reassign.move_rows(
        KindergartenFeedRecord, source, target, clash=MSG_MERGE_FEED, describe=_years_of
    )


PERSON_MOVERS = {
    IssuedHours: person_issued_hours_move,
    Enrolment: person_enrolments_move,
    HoursCorrection: person_corrections_move,
    Certificate: person_certificates_move,
    KindergartenFeedRecord: person_feed_records_move,
}
