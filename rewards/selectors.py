"""Reads of the published reward results, scoped to what the actor may see (SPEC §7, §9).

The operator sees every list; a regional centre (主管機關) its own result, its schools and their
teachers; a school account (總負責人, 連絡人) its own school and its teachers; a teacher only their
own result. Published = the rows of the year's latest completed run (the job replaces them in
the transaction that marks the run 完成).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import UnitKind
from accounts.permissions import Perm, UnitScope
from core.refusals import Kind
from rewards.errors import RewardError
from rewards.models import AuthorityResult, ListExport, RewardRun, RunStatus, SchoolResult, TeacherResult
from teachers.models import Membership

MSG_LISTS_FORBIDDEN = _("您沒有查看獎勵名單的權限。")


def scope_of(actor) -> UnitScope:
    """The reward lists narrowed to the actor's unit scope (the operator all, a centre its authority,
    a school account its school); refused (forbidden, 403) without 獎勵名單 or outside every part."""
    scope = permissions.unit_scope(actor)
    if (
        not permissions.has_perm(actor, Perm.REWARD_LISTS)
        or scope.level == "none"
        or (scope.level == "unit" and scope.unit.kind != UnitKind.SCHOOL)
    ):
        raise RewardError(MSG_LISTS_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)
    return scope


def published_years() -> list[int]:
    return sorted(
        set(RewardRun.objects.filter(status=RunStatus.SUCCEEDED).values_list("year", flat=True)), reverse=True
    )


def published_run(year: int) -> RewardRun | None:
    return (
        RewardRun.objects.filter(year=year, status=RunStatus.SUCCEEDED)
        .select_related("started_by__person")
        .order_by("-finished_at", "-id")
        .first()
    )


def runs() -> QuerySet[RewardRun]:
    return RewardRun.objects.select_related("started_by__person").order_by("-created_at", "-id")


def _published(model, year: int):
    run = published_run(year)
    return model.objects.filter(run_id=run.pk) if run else model.objects.none()


def authority_results(scope: UnitScope, year: int) -> QuerySet[AuthorityResult]:
    rows = _published(AuthorityResult, year).select_related("authority").order_by("authority__code")
    if scope.level == "authority":
        return rows.filter(authority_id=scope.unit.pk)
    if scope.level == "unit":
        return rows.filter(authority_id=scope.unit.authority_id)
    return rows


def school_results(scope: UnitScope, year: int) -> QuerySet[SchoolResult]:
    rows = _published(SchoolResult, year).select_related("school", "authority")
    if scope.level == "authority":
        rows = rows.filter(authority_id=scope.unit.pk)
    elif scope.level == "unit":
        rows = rows.filter(school_id=scope.unit.pk)
    return rows.order_by("authority__code", "stage", "school__code")


def teacher_results(scope: UnitScope, year: int) -> QuerySet[TeacherResult]:
    rows = _published(TeacherResult, year).select_related("person", "school", "authority")
    if scope.level == "authority":
        rows = rows.filter(authority_id=scope.unit.pk)
    elif scope.level == "unit":
        rows = rows.filter(school_id=scope.unit.pk)
    return rows.order_by("school__code", "person__name", "person_id")


def own_result(person_id: int, year: int) -> TeacherResult | None:
    return (
        _published(TeacherResult, year)
        .filter(person_id=person_id)
        .select_related("school", "authority")
        .first()
    )


def membership_on(person_id: int, day: dt.date) -> Membership | None:
    """The person's membership of the day, as the job takes it: the latest started one in force."""
    return (
        Membership.objects.on(day)
        .filter(person_id=person_id)
        .select_related("unit")
        .order_by("-start_date", "-id")
        .first()
    )


def search_schools(scope: UnitScope, year: int, *, school: str = "") -> QuerySet[SchoolResult]:
    """獎勵名單 on screen: the scope's school results whose school code or name contains the text."""
    rows = school_results(scope, year)
    if school:
        rows = rows.filter(Q(school__code__icontains=school) | Q(school__name__icontains=school))
    return rows


def search_teachers(
    scope: UnitScope, year: int, *, school: str = "", teacher: str = ""
) -> QuerySet[TeacherResult]:
    """The scope's teacher results by school (code or name) and teacher name; shown masked."""
    rows = teacher_results(scope, year)
    if school:
        rows = rows.filter(Q(school__code__icontains=school) | Q(school__name__icontains=school))
    if teacher:
        rows = rows.filter(person__name__icontains=teacher)
    return rows


def list_row_count(scope: UnitScope, year: int, *, lists: tuple[str, ...]) -> int:
    """How many rows the named lists (authorities, schools, teachers) hold within the scope."""
    readers = {"authorities": authority_results, "schools": school_results, "teachers": teacher_results}
    return sum(readers[name](scope, year).count() for name in lists)


def own_list_exports(actor) -> QuerySet[ListExport]:
    """The actor's own requested downloads: nobody else's is ever listed or served."""
    return ListExport.objects.filter(requested_by=actor)
