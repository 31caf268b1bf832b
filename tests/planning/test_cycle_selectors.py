"""進修規劃年度 pages are thin (issue 17 point 5): cycle_views.py parses, calls planning.selectors and
renders; the reads are named selectors, tested here, and the view module holds no ORM query."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from planning import selectors
from planning.models import PlanKind, PlanningCycle, PlanningWindow
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db

ORM_CALLS = {
    "objects",
    "filter",
    "exclude",
    "annotate",
    "aggregate",
    "select_related",
    "prefetch_related",
    "order_by",
    "values",
    "values_list",
    "count",
    "exists",
    "first",
    "windows",
}
ORM_NAMES = {"get_object_or_404", "get_list_or_404", "Count", "Q", "F", "Sum"}


def test_cycle_views_hold_no_orm_query():
    tree = ast.parse((Path(settings.BASE_DIR) / "planning" / "cycle_views.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ORM_CALLS:
            found.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.Name) and node.id in ORM_NAMES:
            found.append(f"line {node.lineno}: {node.id}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.db"):
            found.append(f"line {node.lineno}: from {node.module}")
    assert found == []


def _window(cycle, authority, kind, first_day):
    return PlanningWindow.objects.create(
        cycle=cycle,
        authority=authority,
        kind=kind,
        first_day=first_day,
        last_day=first_day + dt.timedelta(days=5),
    )


def test_the_cycle_selectors_read_counts_groups_and_lookups(authority, operator):
    old = PlanningCycle.objects.create(year=300, roster_cutoff=dt.datetime(2023, 6, 1, tzinfo=dt.UTC))
    new = PlanningCycle.objects.create(year=301, roster_cutoff=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    teacher = _window(new, authority, PlanKind.TEACHER, dt.date(2024, 9, 1))
    school = _window(new, authority, PlanKind.SCHOOL, dt.date(2024, 8, 15))
    rows = list(selectors.cycles_with_window_counts())[:2]
    assert [(row.year, row.window_count) for row in rows] == [(301, 2), (300, 0)]
    assert selectors.cycle_of_year(301) == new and selectors.cycle_of_year(999) is None
    assert selectors.cycle_window_count(new) == 2 and selectors.cycle_window_count(old) == 0
    assert selectors.cycle_windows_by_kind(new) == [
        (PlanKind.SCHOOL.label, [school]),
        (PlanKind.TEACHER.label, [teacher]),
    ]
    assert selectors.window_with_cycle(teacher.pk).cycle == new and selectors.window_with_cycle(0) is None
    client = signed_in_client(operator)
    assert client.get(reverse("planning:cycle", args=[301])).status_code == 200
    for url in (
        reverse("planning:cycle", args=[999]),
        reverse("planning:window-new", args=[999]),
        reverse("planning:window-edit", args=[0]),
        reverse("planning:window-delete", args=[0]),
    ):
        assert client.get(url).status_code == 404
