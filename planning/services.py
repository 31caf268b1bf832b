"""Write use-cases of the planning service (SPEC §6): plans, the roster snapshot, the survey,
publishing the statistics and announcements.

The server decides whether a window is open (planning.clock, PlanningWindow.contains); the
browser never does. Each plan write locks its owner's row, so two representatives of one school
(or two tabs of one teacher) are serialised: one plan per school (teacher) per year, stored once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import BusinessAccount, Person, Unit, User, in_planning_scope_q
from accounts.permissions import Perm, ScopedPerm
from core.refusals import Kind, Refused
from core.roc import academic_year, format_roc_datetime
from planning import clock
from planning.choices import OPTIONS, Domain, Question
from planning.models import (
    Announcement,
    PlanKind,
    PlannedHours,
    PlanningCycle,
    PlanningWindow,
    PlanReopening,
    RosterSnapshot,
    SchoolPlan,
    SchoolPlanAnswer,
    SnapshotEntry,
    StatisticsPublication,
    SurveyResponse,
    TeacherPlan,
    TeacherPlanAnswer,
)
from planning.statistics import count_needs
from planning.windows import window_for
from teachers import reassign
from teachers.models import Category, Membership

MSG_NO_CYCLE = _("本學年度的進修規劃尚未開放。")
MSG_SCHOOL_NOT_IN_SCOPE = _(
    "貴單位不在本學年度學校本位進修規劃的範圍內（限國小、國中、高中、高職及特殊教育學校）。"
)
MSG_TEACHER_NOT_IN_SCOPE = _(
    "您目前不是規劃範圍內學校（國小、國中、高中、高職及特殊教育學校）的教師，無法填寫教師自我進修規劃。"
)
MSG_NO_WINDOW = _("貴單位所屬主管機關尚未排定本學年度的填報期程。")
MSG_CLOSED = _("目前不在填報期間（{opens} 至 {closes}），無法儲存或送出；資料未變更。")
MSG_ALREADY_SUBMITTED = _("本規劃已於 {at} 確認送出，不能再修改。")
MSG_UNKNOWN_OPTION = _("選項不正確，請重新選擇。")
MSG_BAD_HOURS = _("規劃時數須介於 0 到 999 小時之間。")
MSG_BAD_STUDENTS = _("學生總數須為 0 到 100000 的整數。")
MSG_NOT_SUBMITTED = _("請先確認送出規劃，再填寫滿意度問卷。")
MSG_SURVEY_DONE = _("您已填寫過本規劃的滿意度問卷，謝謝。")


class PlanningError(Refused):
    """core.refusals.Refused of the planning rules: every raise names its rule (`code`); a closed
    window is a conflict (409), not a 403."""

    def __init__(self, message, *, code: str, kind: Kind = Kind.CONFLICT, details: list[str] | None = None):
        super().__init__(message, code=code, kind=kind, details=details)


def current_cycle(at: dt.datetime | None = None) -> PlanningCycle | None:
    """The cycle of the academic year containing the instant, else the latest earlier one."""
    at = at or clock.now()
    year = academic_year(timezone.localtime(at).date())
    return PlanningCycle.objects.filter(year__lte=year).order_by("-year").first()


def school_in_scope(unit: Unit | None) -> bool:
    return unit is not None and unit.in_planning_scope


def teacher_school(person: Person | None, day: dt.date) -> Unit | None:
    """The in-scope school a person serves at as a teacher on the day, or None (outside scope)."""
    if person is None:
        return None
    membership = (
        Membership.objects.on(day)
        .filter(in_planning_scope_q("unit__"), person=person, category=Category.TEACHER)
        .select_related("unit")
        .order_by("-start_date")
        .first()
    )
    return membership.unit if membership else None


def closed_message(window: PlanningWindow) -> str:
    return str(MSG_CLOSED).format(
        opens=format_roc_datetime(timezone.localtime(window.opens_at)),
        closes=format_roc_datetime(timezone.localtime(window.closes_at)),
    )


def _open_window(
    cycle: PlanningCycle, kind: PlanKind, authority_id: int, at: dt.datetime, extended_until=None
) -> PlanningWindow:
    """The window, open at the instant; or closed, with the plan's recorded extension still running."""
    window = window_for(year=cycle.year, kind=kind, authority_id=authority_id)
    if window is None:
        raise PlanningError(MSG_NO_WINDOW, code="no_window")
    if not window.admits(at, extended_until):
        raise PlanningError(closed_message(window), code="window_closed")
    return window


def _extension(model, **owner) -> dt.datetime | None:
    return model.objects.filter(**owner).values_list("extended_until", flat=True).first()


def _clean_answers(answers: dict[str, list[str]]) -> list[tuple[str, str]]:
    rows = []
    for question, options in answers.items():
        known = {code for code, _label in OPTIONS.get(question, ())}
        if question not in Question.values or not set(options) <= known:
            raise PlanningError(MSG_UNKNOWN_OPTION, code="unknown_option", kind=Kind.INVALID)
        rows += [(question, option) for option in dict.fromkeys(options)]
    return rows


def _replace_answers(plan, answer_model, rows: list[tuple[str, str]]) -> None:
    answer_model.objects.filter(plan=plan).delete()
    answer_model.objects.bulk_create([answer_model(plan=plan, question=q, option=o) for q, o in rows])


def _refuse_if_submitted(plan) -> None:
    if plan.submitted_at is not None:
        at = format_roc_datetime(timezone.localtime(plan.submitted_at))
        raise PlanningError(str(MSG_ALREADY_SUBMITTED).format(at=at), code="already_submitted")


@transaction.atomic
def school_plan_save(
    *, actor: User, student_count: int | None, answers: dict[str, list[str]], submit: bool
) -> SchoolPlan:
    """Save the school's plan as a draft, or 確認送出 it; only inside the school's window."""
    permissions.require(actor, Perm.SCHOOL_PLAN)
    at = clock.now()
    cycle = current_cycle(at)
    if cycle is None:
        raise PlanningError(MSG_NO_CYCLE, code="no_cycle")
    school = permissions.unit_of(actor)
    if not school_in_scope(school):
        raise PlanningError(MSG_SCHOOL_NOT_IN_SCOPE, code="not_in_scope", kind=Kind.FORBIDDEN)
    extended = _extension(SchoolPlan, school=school, year=cycle.year)
    _open_window(cycle, PlanKind.SCHOOL, school.authority_id, at, extended)
    if student_count is not None and not 0 <= student_count <= 100_000:
        raise PlanningError(MSG_BAD_STUDENTS, code="bad_students", kind=Kind.INVALID)
    rows = _clean_answers(answers)
    # Every writer of this school's plan queues here: one plan per school and year, submitted once.
    Unit.objects.select_for_update().filter(pk=school.pk).first()
    plan, _created = SchoolPlan.objects.get_or_create(school=school, year=cycle.year)
    _refuse_if_submitted(plan)
    _replace_answers(plan, SchoolPlanAnswer, rows)
    plan.student_count = student_count
    plan.updated_by = actor
    if submit:
        plan.submitted_at = at
    plan.save()
    return plan


@transaction.atomic
def teacher_plan_save(
    *, actor: User, answers: dict[str, list[str]], hours: dict[str, Decimal | None], submit: bool
) -> TeacherPlan:
    """Save the teacher's own plan; the window is that of the authority of the school served at now."""
    permissions.require(actor, Perm.TEACHER_PLAN)
    at = clock.now()
    cycle = current_cycle(at)
    if cycle is None:
        raise PlanningError(MSG_NO_CYCLE, code="no_cycle")
    person = Person.objects.select_for_update().filter(pk=actor.person_id).first()
    school = teacher_school(person, timezone.localtime(at).date())
    if school is None:
        raise PlanningError(MSG_TEACHER_NOT_IN_SCOPE, code="not_in_scope", kind=Kind.FORBIDDEN)
    extended = _extension(TeacherPlan, person=person, year=cycle.year)
    _open_window(cycle, PlanKind.TEACHER, school.authority_id, at, extended)
    rows = _clean_answers(answers)
    planned = {domain: value for domain, value in hours.items() if value is not None}
    if not set(planned) <= set(Domain.values) or any(not 0 <= value <= 999 for value in planned.values()):
        raise PlanningError(MSG_BAD_HOURS, code="bad_hours", kind=Kind.INVALID)
    plan, _created = TeacherPlan.objects.get_or_create(person=person, year=cycle.year)
    _refuse_if_submitted(plan)
    _replace_answers(plan, TeacherPlanAnswer, rows)
    PlannedHours.objects.filter(plan=plan).delete()
    PlannedHours.objects.bulk_create(
        [PlannedHours(plan=plan, domain=domain, hours=value) for domain, value in planned.items()]
    )
    plan.school = school
    plan.updated_by = actor
    if submit:
        plan.submitted_at = at
    plan.save()
    return plan


# 退回修改 while the window is open: a school plan of a unit in the actor's scope (a centre its schools).
READ_SCHOOL_PLAN = ScopedPerm(Perm.SCHOOL_PLAN_READ, "school")
REOPEN_SCHOOL_PLAN = ScopedPerm(Perm.PLAN_REOPEN, "school")
MSG_REOPEN_NOT_VISIBLE = _("找不到這份規劃。")
MSG_REOPEN_FORBIDDEN = _(
    "您可以檢視這份規劃，但不能退回：學校本位進修規劃由所屬主管機關或教師進修網管理者退回，"
    "教師自我進修規劃由教師進修網管理者退回；規劃未變更。"
)
MSG_REOPEN_NOT_SUBMITTED = _("本規劃尚未確認送出，仍是草稿，不需退回。")
MSG_REOPEN_REASON = _("請填寫退回原因（會記錄並以電子郵件通知填報者）。")
MSG_REOPEN_CLOSED = _(
    "填報期程已於 {closes} 截止，僅教師進修網管理者可退回，且須同時給予延長截止時間；規劃未變更。"
)
MSG_REOPEN_EXTENSION = _("延長截止時間須晚於現在（{now}）；規劃未變更。")
MSG_REOPEN_NO_EXTENSION_WHILE_OPEN = _("填報期程仍在進行中（至 {closes}），退回後可於期程內修改，不需延長。")


def plan_reopen_allowed(actor: User, kind: PlanKind, plan) -> None:
    """Refuse unless the actor may reopen the plan: not visible (404) when they may not even see it,
    forbidden (403) when they see it (their own school's plan, their own teacher plan) but reopening
    is not theirs. The operator reopens any plan; a school's authority its schools' plans."""
    if plan is None:
        raise PlanningError(MSG_REOPEN_NOT_VISIBLE, code="plan_not_visible", kind=Kind.NOT_VISIBLE)
    if permissions.has_perm(actor, Perm.PLAN_EXTEND):
        return
    if kind == PlanKind.SCHOOL:
        if REOPEN_SCHOOL_PLAN.allows(actor, plan):
            return
        seen = READ_SCHOOL_PLAN.allows(actor, plan)
    else:
        seen = actor.person_id is not None and plan.person_id == actor.person_id
    if not seen:
        raise PlanningError(MSG_REOPEN_NOT_VISIBLE, code="plan_not_visible", kind=Kind.NOT_VISIBLE)
    raise PlanningError(MSG_REOPEN_FORBIDDEN, code="reopen_forbidden", kind=Kind.FORBIDDEN)


def _plan_window(kind: PlanKind, plan) -> PlanningWindow | None:
    school = plan.school
    if school is None:
        return None
    return window_for(year=plan.year, kind=kind, authority_id=school.authority_id)


def _reopen_recipients(kind: PlanKind, plan) -> list[str]:
    if kind == PlanKind.TEACHER:
        users = User.objects.filter(person_id=plan.person_id, business_account__isnull=True)
    else:
        users = User.objects.filter(
            pk__in=BusinessAccount.objects.filter(unit_id=plan.school_id).values("user_id")
        )
    return sorted({email for email in users.exclude(email="").values_list("email", flat=True)})


def _mail_reopening(kind: PlanKind, plan, reopening) -> None:
    addresses = _reopen_recipients(kind, plan)
    if not addresses:
        return
    lines = [
        f"您的{PlanKind(kind).label}（{plan.year} 學年度）已退回為草稿，請修改後再按「確認送出」。",
        f"退回原因：{reopening.reason}",
    ]
    if reopening.extended_until:
        until = format_roc_datetime(timezone.localtime(reopening.extended_until))
        lines.append(f"延長截止時間：{until}（在此之前確認送出，視同於填報期程內送出）")
    else:
        lines.append("請於原填報期程截止前再次確認送出。")
    subject = f"【進修規劃退回】{plan.year} 學年度{PlanKind(kind).label}"
    send_mail(subject, "\n".join(lines), None, addresses, fail_silently=True)


@transaction.atomic
def plan_reopen(
    *, actor: User, kind: PlanKind, plan_id: int, reason: str, extended_until: dt.datetime | None = None
):
    """Make a submitted plan a draft again (SPEC §6), recorded and e-mailed.

    While the window is open: the operator, or the school's authority for a school plan. After it
    closed: only the operator, and only by granting that plan an extension (a closing instant).
    """
    kind = PlanKind(kind)
    may_extend = permissions.has_perm(actor, Perm.PLAN_EXTEND)
    model = SchoolPlan if kind == PlanKind.SCHOOL else TeacherPlan
    plan = model.objects.select_for_update(of=("self",)).select_related("school").filter(pk=plan_id).first()
    plan_reopen_allowed(actor, kind, plan)
    reason = (reason or "").strip()
    if not reason:
        raise PlanningError(MSG_REOPEN_REASON, code="reason_required", kind=Kind.INVALID)
    if plan.submitted_at is None:
        raise PlanningError(MSG_REOPEN_NOT_SUBMITTED, code="not_submitted")
    at = clock.now()
    window = _plan_window(kind, plan)
    closed = window is not None and at > window.closes_at
    if window is not None and not closed and extended_until is not None:
        closes = format_roc_datetime(timezone.localtime(window.closes_at))
        raise PlanningError(str(MSG_REOPEN_NO_EXTENSION_WHILE_OPEN).format(closes=closes), code="window_open")
    if closed or window is None:
        if not may_extend or extended_until is None:
            closes = format_roc_datetime(timezone.localtime(window.closes_at)) if window else "—"
            raise PlanningError(str(MSG_REOPEN_CLOSED).format(closes=closes), code="window_closed")
        if extended_until <= at:
            now = format_roc_datetime(timezone.localtime(at))
            raise PlanningError(str(MSG_REOPEN_EXTENSION).format(now=now), code="extension_past")
        plan.extended_until = extended_until
    reopening = PlanReopening.objects.create(
        kind=kind,
        school_plan=plan if kind == PlanKind.SCHOOL else None,
        teacher_plan=plan if kind == PlanKind.TEACHER else None,
        reason=reason,
        previous_submitted_at=plan.submitted_at,
        extended_until=plan.extended_until if closed or window is None else None,
        reopened_by=actor,
        reopened_at=at,
    )
    plan.submitted_at = None
    plan.save(update_fields=["submitted_at", "extended_until", "updated_at"])
    transaction.on_commit(lambda: _mail_reopening(kind, plan, reopening))
    return plan


def roster_snapshot_take(*, cycle_id: int) -> tuple[RosterSnapshot, int]:
    """教師名單 at the cut-off: every member of an in-scope school on the cut-off day, copied.

    Returns the snapshot and how many entries this call wrote (0 when it already existed).
    """
    with transaction.atomic():
        cycle = PlanningCycle.objects.select_for_update().get(pk=cycle_id)
        existing = RosterSnapshot.objects.filter(cycle=cycle).first()
        if existing is not None:
            return existing, 0
        snapshot = RosterSnapshot.objects.create(cycle=cycle)
        day = timezone.localtime(cycle.roster_cutoff).date()
        memberships = (
            Membership.objects.on(day)
            .filter(in_planning_scope_q("unit__"))
            .select_related("person")
            .prefetch_related("subjects")
            .order_by("pk")
        )
        batch: list[SnapshotEntry] = []
        written = 0
        seen: set[int] = set()
        for membership in memberships.iterator(chunk_size=2000):
            if membership.person_id in seen:
                continue
            seen.add(membership.person_id)
            batch.append(
                SnapshotEntry(
                    snapshot=snapshot,
                    school_id=membership.unit_id,
                    person_id=membership.person_id,
                    name=membership.person.name,
                    category=membership.category,
                    title=membership.title,
                    subjects="；".join(sorted(subject.name for subject in membership.subjects.all())),
                    start_date=membership.start_date,
                )
            )
            if len(batch) >= 5000:
                SnapshotEntry.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        SnapshotEntry.objects.bulk_create(batch)
        written += len(batch)
    return snapshot, written


def roster_snapshots_take_due(*, at: dt.datetime | None = None) -> list[int]:
    """The scheduled task's work: snapshot every cycle whose cut-off has passed and has none yet."""
    at = at or clock.now()
    due = PlanningCycle.objects.filter(roster_cutoff__lte=at, snapshot__isnull=True).values_list(
        "pk", flat=True
    )
    return [roster_snapshot_take(cycle_id=pk)[0].cycle_id for pk in list(due)]


@transaction.atomic
def survey_answer(*, actor: User, kind: PlanKind, ease: int, usefulness: int, comment: str) -> SurveyResponse:
    """滿意度問卷: once per submitted plan."""
    cycle = current_cycle()
    if cycle is None:
        raise PlanningError(MSG_NO_CYCLE, code="no_cycle")
    if kind == PlanKind.SCHOOL:
        permissions.require(actor, Perm.SCHOOL_PLAN)
        plan = SchoolPlan.objects.select_for_update().filter(
            school=permissions.unit_of(actor), year=cycle.year
        )
        plan = plan.first()
        link = {"school_plan": plan}
    else:
        permissions.require(actor, Perm.TEACHER_PLAN)
        plan = (
            TeacherPlan.objects.select_for_update().filter(person_id=actor.person_id, year=cycle.year).first()
        )
        link = {"teacher_plan": plan}
    if plan is None or plan.submitted_at is None:
        raise PlanningError(MSG_NOT_SUBMITTED, code="not_submitted")
    if SurveyResponse.objects.filter(**link).exists():
        raise PlanningError(MSG_SURVEY_DONE, code="already_answered")
    return SurveyResponse.objects.create(
        kind=kind, year=cycle.year, ease=ease, usefulness=usefulness, comment=comment, **link
    )


@transaction.atomic
def statistics_publish(*, actor: User, cycle_id: int, publish: bool) -> PlanningCycle:
    """The operator publishes (or withdraws) a cycle's 統計專區."""
    permissions.require(actor, Perm.STATISTICS_PUBLISH)
    cycle = PlanningCycle.objects.select_for_update().get(pk=cycle_id)
    if publish:
        publication, _created = StatisticsPublication.objects.update_or_create(
            cycle=cycle, defaults={"published_at": clock.now()}
        )
        count_needs(publication)
    else:
        StatisticsPublication.objects.filter(cycle=cycle).delete()
    return cycle


def may_announce(actor: User) -> bool:
    return permissions.has_perm(actor, Perm.ANNOUNCE)


MSG_ANNOUNCE_FORBIDDEN = _("您沒有發布最新消息的權限。")
MSG_ANNOUNCEMENT_NOT_VISIBLE = _("找不到這則最新消息；可能已被撤下。")
MSG_ATTACHMENT_NOT_PDF = _("附件須為 PDF 檔（副檔名 .pdf）；未儲存任何資料。")
MSG_ATTACHMENT_TOO_BIG = _("附件超過 %(mb)s MB 的上限，請壓縮或分割後再上傳；未儲存任何資料。")


def announcement_attachment_check(upload) -> None:
    """The attachment's rules, for the form and for every caller of the services: a PDF (its name
    and its first bytes) of at most settings.ANNOUNCEMENT_ATTACHMENT_MAX_BYTES."""
    if not upload:
        return
    limit = settings.ANNOUNCEMENT_ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:  # checked first: a refused part has no content
        raise PlanningError(
            str(MSG_ATTACHMENT_TOO_BIG) % {"mb": limit // (1024 * 1024)},
            code="attachment_too_big",
            kind=Kind.INVALID,
        )
    name = getattr(upload, "name", "") or ""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if not name.lower().endswith(".pdf") or head != b"%PDF-":
        raise PlanningError(MSG_ATTACHMENT_NOT_PDF, code="attachment_not_pdf", kind=Kind.INVALID)


def _announcing_unit(actor: User) -> Unit:
    """The unit the actor announces for; refused (403) without the permission or a unit."""
    unit = permissions.unit_of(actor)
    if not may_announce(actor) or unit is None:
        raise PlanningError(MSG_ANNOUNCE_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)
    return unit


def _own_announcement(actor: User, pk: int) -> Announcement:
    """An item of the actor's own unit, locked; another unit's item (or one withdrawn meanwhile) is
    not visible (404): the author's unit alone edits and withdraws it."""
    unit = _announcing_unit(actor)
    item = Announcement.objects.select_for_update().filter(pk=pk, unit=unit).first()
    if item is None:
        raise PlanningError(
            MSG_ANNOUNCEMENT_NOT_VISIBLE, code="announcement_not_visible", kind=Kind.NOT_VISIBLE
        )
    return item


@transaction.atomic
def announcement_edit(*, actor: User, pk: int, title: str, body: str, published_on: dt.date, attachment=None):
    """The author's unit corrects its item; a new PDF replaces the old one, none keeps it."""
    announcement_attachment_check(attachment)
    item = _own_announcement(actor, pk)
    item.title, item.body, item.published_on = title, body, published_on
    if attachment:
        item.attachment = attachment
    item.save()
    return item


@transaction.atomic
def announcement_withdraw(*, actor: User, pk: int) -> None:
    """撤下: the author's unit removes its item (and its attachment) from every list."""
    item = _own_announcement(actor, pk)
    if item.attachment:
        item.attachment.delete(save=False)
    item.delete()


@transaction.atomic
def announcement_publish(*, actor: User, title: str, body: str, published_on: dt.date, attachment=None):
    """最新消息 by the operator (everyone) or a centre (its own schools and the public)."""
    unit = _announcing_unit(actor)
    announcement_attachment_check(attachment)
    return Announcement.objects.create(
        unit=unit,
        title=title,
        body=body,
        published_on=published_on,
        attachment=attachment or "",
        created_by=actor,
    )


# ------------------------------------------------------------------------------------------
# Merging two person records (the teachers.reassign hook).

MSG_MERGE_PLAN = _("兩筆人員資料在同一學年度（{which}）都有教師自我進修規劃，無法合併；請先處理其中一份。")
MSG_MERGE_SNAPSHOT = _("兩筆人員資料在同一份教師名單快照（{which} 學年度）中都有列名，無法合併。")


def person_teacher_plans_move(source: Person, target: Person) -> int:
    return reassign.move_rows(
        TeacherPlan,
        source,
        target,
        clash=MSG_MERGE_PLAN,
        describe=lambda rows: "、".join(str(y) for y in rows.values_list("year", flat=True)),
    )


def person_snapshot_entries_move(source: Person, target: Person) -> int:
    return reassign.move_rows(
        SnapshotEntry,
        source,
        target,
        clash=MSG_MERGE_SNAPSHOT,
        describe=lambda rows: "、".join(str(y) for y in rows.values_list("snapshot__cycle__year", flat=True)),
    )


PERSON_MOVERS = {TeacherPlan: person_teacher_plans_move, SnapshotEntry: person_snapshot_entries_move}
