"""填報率: the one computation of school-plan fill rates (SPEC §6 B2, §7 authority award).

The 填報率 page and the reward job's ≥ 60% rule both read `school_plan_fill_rates`, so the number
an authority sees is the number it is rewarded on.
"""

from dataclasses import dataclass
from fractions import Fraction

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

from accounts.models import Unit, UnitKind, in_planning_scope_q
from planning.models import (
    PlanKind,
    PlanningWindow,
    SchoolPlan,
    SnapshotEntry,
    TeacherPlan,
)
from planning.windows import windows_by_authority
from teachers.models import Category


@dataclass(frozen=True)
class FillRate:
    authority_id: int
    submitted: int  # in-scope schools whose plan of the year was 確認送出 inside their window
    total: int  # every in-scope school under the authority, with or without teachers

    @property
    def rate(self) -> Fraction | None:
        """Exact, so that 60% is 60% (None when the authority has no in-scope school)."""
        return Fraction(self.submitted, self.total) if self.total else None


def school_plan_fill_rates(*, year: int) -> dict[int, FillRate]:
    """Fill rate of every authority for the cycle of `year`, keyed by authority id (three queries)."""
    totals = dict(
        Unit.objects.in_planning_scope()
        .values_list("authority_id")
        .annotate(n=Count("id"))
        .values_list("authority_id", "n")
    )
    windows = windows_by_authority(year=year, kind=PlanKind.SCHOOL)
    submitted = dict(
        SchoolPlan.objects.filter(in_planning_scope_q("school__"), year=year)
        .filter(PlanningWindow.admitted_q(windows, "school__authority_id"))
        .values_list("school__authority_id")
        .annotate(n=Count("id"))
        .values_list("school__authority_id", "n")
    )
    authority_ids = Unit.objects.filter(kind=UnitKind.AUTHORITY).values_list("id", flat=True)
    return {
        authority_id: FillRate(authority_id, submitted.get(authority_id, 0), totals.get(authority_id, 0))
        for authority_id in authority_ids
    }


def _teacher_entries(year: int):
    """Teacher entries (category 教師) of the cycle's snapshot, each marked when their plan counts:
    確認送出 inside the window of the authority of the school they served at when submitting (the
    snapshot school when the plan does not say, as for imported plans)."""
    windows = windows_by_authority(year=year, kind=PlanKind.TEACHER)
    plans = TeacherPlan.objects.filter(person_id=OuterRef("person_id"), year=year, submitted_at__isnull=False)
    plans = plans.annotate(
        window_authority=Coalesce(
            F("school__authority_id"), OuterRef("school__authority_id"), output_field=BigIntegerField()
        )
    )
    inside = PlanningWindow.admitted_q(windows, "window_authority")
    return SnapshotEntry.objects.filter(snapshot__cycle__year=year, category=Category.TEACHER).annotate(
        counted=Exists(plans.filter(inside))
    )


def teacher_plan_fill_rates(*, year: int) -> dict[int, FillRate]:
    """Teacher plans ÷ teachers of the snapshot, per authority (keyed by authority id; one query)."""
    rows = (
        _teacher_entries(year)
        .values("school__authority_id")
        .annotate(total=Count("id"), submitted=Count("id", filter=Q(counted=True)))
    )
    by_authority = {row["school__authority_id"]: row for row in rows}
    return {
        authority_id: FillRate(
            authority_id,
            by_authority.get(authority_id, {}).get("submitted", 0),
            by_authority.get(authority_id, {}).get("total", 0),
        )
        for authority_id in Unit.objects.filter(kind=UnitKind.AUTHORITY).values_list("id", flat=True)
    }


def teacher_plan_fill_rates_by_school(*, year: int, authority_id: int | None = None) -> dict[int, FillRate]:
    """The same rate per school (keyed by school id), optionally for one authority's schools."""
    entries = _teacher_entries(year)
    if authority_id is not None:
        entries = entries.filter(school__authority_id=authority_id)
    rows = entries.values("school_id").annotate(
        total=Count("id"), submitted=Count("id", filter=Q(counted=True))
    )
    return {row["school_id"]: FillRate(row["school_id"], row["submitted"], row["total"]) for row in rows}


def school_plans_submitted_in_window(*, year: int) -> set[int]:
    """Ids of the schools whose plan of the year counts (確認送出 inside their authority's window)."""
    windows = windows_by_authority(year=year, kind=PlanKind.SCHOOL)
    inside = PlanningWindow.admitted_q(windows, "school__authority_id")
    return set(SchoolPlan.objects.filter(year=year).filter(inside).values_list("school_id", flat=True))
