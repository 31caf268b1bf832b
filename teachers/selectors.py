"""Reads of the roster, scoped to what the actor may see, each with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Window
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import Person, Unit
from accounts.permissions import Perm
from core.roc import academic_year
from teachers import hours, trust
from teachers.models import (
    AccountStatus,
    ApplicationStatus,
    Category,
    FeedRun,
    Membership,
    Subject,
    TeacherAccount,
    TeacherApplication,
    subjects_for_stage,
)

PAGE_SIZES = (10, 20, 50, 100)


class RosterState(models.TextChoices):
    """帳號狀況 as the roster list shows it: 已申請（待啟用） apart from 待申請 (issue 19 point 4)."""

    ACTIVE = AccountStatus.ACTIVE.value, _("啟用中")
    DISABLED = AccountStatus.DISABLED.value, _("停用中")
    APPLIED = "applied", _("已申請（待啟用）")
    PENDING = AccountStatus.PENDING.value, _("待申請")


def _waiting(person_ref: str = "person"):
    return TeacherApplication.objects.filter(person=OuterRef(person_ref), status=ApplicationStatus.WAITING)


def managed_unit(actor) -> Unit | None:
    """The unit whose roster the actor manages (本單位教師帳號管理), or None."""
    if not permissions.has_perm(actor, permissions.Perm.UNIT_TEACHER_ACCOUNTS):
        return None
    return permissions.unit_of(actor)


def current_roster(unit: Unit) -> QuerySet[Membership]:
    """The unit's roster: memberships in force (end_date empty), with person, teacher account and
    the waiting application (`person.waiting_applications`, newest first)."""
    return (
        Membership.objects.filter(unit=unit, end_date__isnull=True)
        .select_related("person", "person__teacher_account", "person__teacher_account__user")
        .prefetch_related(
            Prefetch(
                "person__teacher_applications",
                queryset=TeacherApplication.objects.filter(status=ApplicationStatus.WAITING).order_by(
                    "-created_at", "-pk"
                ),
                to_attr="waiting_applications",
            )
        )
        .order_by("person__name", "pk")
    )


def _with_filters(
    roster,
    *,
    name: str,
    subject_id: int | None,
    below_supervision: bool,
    today: dt.date | None,
    state: str = "",
):
    """The roster annotated for 教師姓名查詢 and 進階篩選, and the condition a row must meet. Every
    row carries `year_hours`: the person's issued hours of the current academic year."""
    year = academic_year(today or timezone.localdate())
    roster = roster.annotate(year_hours=hours.hours_in_year("person_id", year))
    condition = Q()
    if state:
        roster = roster.annotate(applied=Exists(_waiting()))
        no_account = Q(person__teacher_account__isnull=True)
        condition &= {
            RosterState.ACTIVE: Q(person__teacher_account__status=AccountStatus.ACTIVE),
            RosterState.DISABLED: Q(person__teacher_account__status=AccountStatus.DISABLED),
            RosterState.APPLIED: no_account & Q(applied=True),
            RosterState.PENDING: no_account & Q(applied=False),
        }[state]
    if name:
        condition &= Q(person__name__contains=name)
    if subject_id:
        teaches = Membership.subjects.through.objects.filter(
            membership_id=OuterRef("pk"), subject_id=subject_id
        )
        roster = roster.annotate(teaches=Exists(teaches))
        condition &= Q(teaches=True)
    if below_supervision:
        # 依教育部統合視導: teachers whose issued hours this academic year are below the minimum.
        condition &= Q(category=Category.TEACHER, year_hours__lt=settings.SUPERVISION_MIN_HOURS)
    return roster, condition


def filtered_roster(
    unit: Unit,
    *,
    name: str = "",
    subject_id: int | None = None,
    below_supervision: bool = False,
    today: dt.date | None = None,
    state: str = "",
) -> QuerySet[Membership]:
    """教師姓名查詢 and 進階篩選 (依任教科目, 依教育部統合視導, 帳號狀況), in one SQL query (and
    one for the waiting applications of the page)."""
    roster, condition = _with_filters(
        current_roster(unit),
        name=name,
        subject_id=subject_id,
        below_supervision=below_supervision,
        today=today,
        state=state,
    )
    return roster.filter(condition)


COUNT_KEYS = ("total", "applied_teachers", "applied_staff", "applied", "pending", "waiting")


def _grouped_counts(memberships: QuerySet[Membership], *by: str):
    """The current memberships grouped on (*by, category, has a teacher account, has a waiting
    application), each condition an indexed EXISTS evaluated once per membership: the one query
    behind every 學校總人數 / 已申請 / 待申請 figure (a FILTERed count over a join of every person and
    teacher account of the country costs more)."""
    return (
        memberships.filter(end_date__isnull=True)
        .annotate(
            has_account=Exists(TeacherAccount.objects.filter(person_id=OuterRef("person_id"))),
            applying=Exists(_waiting("person_id")),
        )
        .order_by()
        .values_list(*by, "category", "has_account", "applying")
        .annotate(n=Count("pk"))
    )


def _add(counts: dict[str, int], category: str, has_account: bool, applying: bool, n: int) -> None:
    """The definitions, once: 學校總人數 every current membership; 已申請 (含帳號漫遊) those with a
    teacher account, split 教師 / 行政職員 (every membership is one of the two, a check constraint);
    待申請 the rest, of whom 已申請（待啟用） have a waiting application."""
    counts["total"] += n
    if has_account:
        counts["applied"] += n
        if category == Category.TEACHER:
            counts["applied_teachers"] += n
        elif category == Category.STAFF:
            counts["applied_staff"] += n
    else:
        counts["pending"] += n
        if applying:
            counts["waiting"] += n


def roster_counts(unit: Unit) -> dict[str, int]:
    """本單位教師帳號管理's counts for the unit, in one query (the centre's row counts the same)."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for row in _grouped_counts(Membership.objects.filter(unit=unit)):
        _add(counts, *row)
    return counts


def roster_page(rows: QuerySet[Membership], *, number, size: int) -> Page:
    """One page of a filtered roster, and how many rows match, in one query (a window count):
    the filters (the hours of everyone in the unit, say) are evaluated once, not again to count."""
    try:
        number = max(int(number or 1), 1)
    except (TypeError, ValueError):
        number = 1
    counted = rows.annotate(matched=Window(Count("pk")))
    page_rows = list(counted[(number - 1) * size : number * size])
    if page_rows:
        matched = page_rows[0].matched
    else:
        # Past the last page (or nothing matches): count, and show the last page instead.
        matched = rows.count()
        number = max((matched + size - 1) // size, 1)
        page_rows = list(counted[(number - 1) * size : number * size]) if matched else []
    paginator = Paginator(rows, size)
    paginator.count = matched  # known already: no COUNT query of its own
    return Page(page_rows, number, paginator)


def subject_choices(unit: Unit) -> QuerySet[Subject]:
    return subjects_for_stage(unit.stage).order_by("name")


def centre_school_counts(actor) -> list[Unit]:
    """The regional centre's view: each school of its authority with the counts its own page shows
    (attributes named as COUNT_KEYS), read only; two queries whatever the number of schools."""
    if not permissions.has_perm(actor, Perm.CENTRE_ROSTER_COUNTS):
        return []
    schools = Unit.objects.schools().filter(permissions.unit_scope(actor).q()).order_by("code")
    by_unit: dict[int, dict[str, int]] = {}
    for unit_id, *row in _grouped_counts(Membership.objects.filter(unit__in=schools), "unit_id"):
        _add(by_unit.setdefault(unit_id, dict.fromkeys(COUNT_KEYS, 0)), *row)
    units = list(schools)
    for unit in units:
        for key, value in by_unit.get(unit.pk, dict.fromkeys(COUNT_KEYS, 0)).items():
            setattr(unit, key, value)
    return units


def membership_for_manager(actor, pk: int) -> Membership:
    """A current membership of the actor's own unit; anything else answers 404 (no existence leak)."""
    unit = managed_unit(actor)
    if unit is None:
        raise Http404
    membership = current_roster(unit).prefetch_related("subjects").filter(pk=pk).first()
    if membership is None:
        raise Http404
    return membership


def account_status(membership: Membership) -> str:
    account = getattr(membership.person, "teacher_account", None)
    return account.status if account is not None else AccountStatus.PENDING


def waiting_application(person) -> TeacherApplication | None:
    """The person's waiting application (prefetched by current_roster, else one query)."""
    found = getattr(person, "waiting_applications", None)
    if found is None:
        found = list(
            person.teacher_applications.filter(status=ApplicationStatus.WAITING).order_by(
                "-created_at", "-pk"
            )[:1]
        )
    return found[0] if found else None


def roster_state(membership: Membership) -> str:
    """RosterState of a roster row: the account's state, else 已申請（待啟用） or 待申請."""
    account = getattr(membership.person, "teacher_account", None)
    if account is not None:
        return account.status
    return RosterState.APPLIED if waiting_application(membership.person) else RosterState.PENDING


def application_matches_roster(membership: Membership, application: TeacherApplication | None) -> bool:
    """批次啟用 may take an application only when its e-mail is the roster's trusted address
    (membership: the person's current one, so no query is needed)."""
    return application is not None and trust.is_trusted(
        membership.person, application.email, serving=membership.unit_id
    )


def service_history(person) -> QuerySet[Membership]:
    """服務單位: every membership of the person, newest first."""
    return person.memberships.select_related("unit").order_by("-start_date")


def own_current_membership(user) -> Membership | None:
    if not user.person_id:
        return None
    return (
        Membership.objects.filter(person_id=user.person_id, end_date__isnull=True)
        .select_related("unit")
        .prefetch_related("subjects")
        .first()
    )


DOWNLOAD_FIELDS = (
    "person__national_id_encrypted",
    "person__name",
    "category",
    "title",
    "person__teacher_account__status",
    "person__teacher_account__user__username",
    "person__email",
    "start_date",
    "pk",
)


def download_rows(unit: Unit, chunk_size: int = 2000) -> Iterator[tuple]:
    """The unit's whole current roster for 資料下載 as plain tuples (DOWNLOAD_FIELDS, then the
    subject names): two queries, streamed, no model instances — the largest units have 10,000."""
    roster = Membership.objects.filter(unit=unit, end_date__isnull=True)
    subjects: dict[int, list[str]] = {}
    pairs = (
        Membership.subjects.through.objects.filter(membership__in=roster)
        .order_by("subject__name")
        .values_list("membership_id", "subject__name")
    )
    for membership_id, name in pairs.iterator(chunk_size=chunk_size):
        subjects.setdefault(membership_id, []).append(name)
    for row in (
        roster.order_by("person__name", "pk").values_list(*DOWNLOAD_FIELDS).iterator(chunk_size=chunk_size)
    ):
        yield (*row, subjects.get(row[-1], ()))


def person_by_national_id(number: str) -> Person | None:
    """The person registered under this national ID (人員資料合併, 身分證字號更正), or None."""
    return Person.objects.by_national_id(number).first()


def feed_runs() -> QuerySet[FeedRun]:
    """教師資料同步紀錄, newest first (the model's order), without the refusals' text."""
    return FeedRun.objects.defer("refusals")
