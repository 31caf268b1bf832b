"""填報率: the one computation of school-plan fill rates (SPEC §6 B2, §7 authority award).

The 填報率 page and the reward job's ≥ 60% rule both read `school_plan_fill_rates`, so the number
an authority sees is the number it is rewarded on.
"""

from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Count, Q

from accounts.models import Unit, UnitKind
from planning.models import PlanKind, PlanningCycle, SchoolPlan
from planning.windows import windows_by_authority


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
    cycle = PlanningCycle.objects.get(year=year)
    in_scope = Q(kind=UnitKind.SCHOOL, stage__in=cycle.stages)
    totals = dict(
        Unit.objects.filter(in_scope)
        .values_list("authority_id")
        .annotate(n=Count("id"))
        .values_list("authority_id", "n")
    )
    windows = windows_by_authority(year=year, kind=PlanKind.SCHOOL)
    submitted: dict[int, int] = {}
    if windows:
        inside = Q()
        for authority_id, window in windows.items():
            inside |= Q(
                school__authority_id=authority_id,
                submitted_at__gte=window.opens_at,
                submitted_at__lte=window.closes_at,
            )
        submitted = dict(
            SchoolPlan.objects.filter(year=year, school__kind=UnitKind.SCHOOL, school__stage__in=cycle.stages)
            .filter(inside)
            .values_list("school__authority_id")
            .annotate(n=Count("id"))
            .values_list("school__authority_id", "n")
        )
    authority_ids = Unit.objects.filter(kind=UnitKind.AUTHORITY).values_list("id", flat=True)
    return {
        authority_id: FillRate(authority_id, submitted.get(authority_id, 0), totals.get(authority_id, 0))
        for authority_id in authority_ids
    }
