"""Which planning window applies, and whether an instant falls inside it (SPEC §6).

The server decides; every caller (the plan forms, the fill rates, the reward job) asks here.
"""

import datetime as dt

from planning.models import TAIPEI as _TAIPEI
from planning.models import PlanKind, PlanningWindow


def windows_by_authority(*, year: int, kind: PlanKind) -> dict[int, PlanningWindow]:
    """The cycle's windows of one kind, keyed by authority id (one query)."""
    windows = PlanningWindow.objects.filter(cycle__year=year, kind=kind).select_related("cycle")
    return {window.authority_id: window for window in windows}


def window_for(*, year: int, kind: PlanKind, authority_id: int) -> PlanningWindow | None:
    return (
        PlanningWindow.objects.filter(cycle__year=year, kind=kind, authority_id=authority_id)
        .select_related("cycle")
        .first()
    )


def open_windows(*, at: dt.datetime, kind: PlanKind | None = None):
    """Windows open at the instant, for the home pages and the announcements."""
    windows = PlanningWindow.objects.select_related("cycle", "authority").filter(
        first_day__lte=at.astimezone(_TAIPEI).date(), last_day__gte=at.astimezone(_TAIPEI).date()
    )
    if kind is not None:
        windows = windows.filter(kind=kind)
    return [window for window in windows if window.contains(at)]
