"""統計圖表 (issue 11 point 7): three figures of one academic year, scoped to the actor.

A business account sees its own unit (its teachers' hours, its own courses); a centre sees its
authority (the teachers and the courses of the schools under it, and its own courses); the operator
sees everything. Each figure is labels + values: the chart, the table and the CSV read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from accounts.permissions import Perm, UnitScope
from core.exports import Column, Kind, Table
from core.roc import academic_year_bounds
from courses.choices import Domain
from courses.models import Course, CourseStatus, IssuedHours
from teachers.models import Category, Membership

# Hours per teacher in the year: [low, high) in hours; the last bin is open.
BINS: tuple[tuple[Decimal, Decimal | None, str], ...] = (
    (Decimal("0"), Decimal("0.05"), "0 小時"),
    (Decimal("0.05"), Decimal("6"), "未滿 6 小時"),
    (Decimal("6"), Decimal("12"), "6 至未滿 12 小時"),
    (Decimal("12"), Decimal("18"), "12 至未滿 18 小時"),
    (Decimal("18"), Decimal("36"), "18 至未滿 36 小時"),
    (Decimal("36"), None, "36 小時以上"),
)
CHARTS = {
    "hours-per-teacher": ("每位教師研習時數分布", "時數區間", "教師人數"),
    "hours-per-domain": ("各研習範疇研習時數", "研習範疇", "研習時數"),
    "courses-per-month": ("每月開課數", "月份", "課程數"),
}
HOURS_CHARTS = ("hours-per-domain",)  # the others count teachers or courses


def scope_for(actor: User) -> UnitScope:
    permissions.require(actor, Perm.STATISTICS_CHARTS)
    scope = permissions.unit_scope(actor)
    if scope.level == "none":
        raise Http404
    return scope


@dataclass
class Figure:
    key: str
    title: str
    label_header: str
    value_header: str
    labels: list[str]
    values: list[float]

    def as_json(self) -> dict:
        return {"title": self.title, "labels": self.labels, "values": self.values, "unit": self.value_header}

    def rows(self):
        return list(zip(self.labels, self.values, strict=True))

    def table(self) -> Table:
        """The figure's table, for its CSV (core.exports): hours with two decimals, counts whole."""
        kind = Kind.DECIMAL if self.key in HOURS_CHARTS else Kind.INTEGER
        return Table(self.title, (Column(self.label_header), Column(self.value_header, kind)), self.rows())


def _figure(key, labels, values) -> Figure:
    title, label_header, value_header = CHARTS[key]
    return Figure(key, title, label_header, value_header, labels, values)


def _teachers(scope: UnitScope, year: int):
    """The population: teachers (not 行政職員) in service at a unit in scope at the end of the year,
    or today while the year runs; a teacher who retired or left before that day is not counted."""
    _start, end = academic_year_bounds(year)
    day = min(end, timezone.localdate())
    return Membership.objects.filter(scope.q("unit"), category=Category.TEACHER).on(day).values("person_id")


def hours_per_teacher(scope: UnitScope, year: int) -> Figure:
    people = _teachers(scope, year)
    counts = [0] * len(BINS)
    totals = (
        IssuedHours.objects.in_year(year)
        .filter(person_id__in=people)
        .order_by()
        .values("person_id")
        .annotate(total=Sum("hours"))
        .values_list("total", flat=True)
    )
    with_hours = 0
    for total in totals.iterator(chunk_size=5000):
        total = Decimal(total)
        for index, (low, high, _label) in enumerate(BINS):
            if total >= low and (high is None or total < high):
                counts[index] += 1
                break
        with_hours += 1
    counts[0] += people.order_by().distinct().count() - with_hours
    counts[0] = max(counts[0], 0)
    return _figure("hours-per-teacher", [label for *_, label in BINS], counts)


def hours_per_domain(scope: UnitScope, year: int) -> Figure:
    sums = dict(
        IssuedHours.objects.in_year(year)
        .filter(person_id__in=_teachers(scope, year))
        .order_by()
        .values_list("course__domain")
        .annotate(total=Sum("hours"))
    )
    labels = [str(label) for label in Domain.labels] + ["未分類"]
    values = [float(sums.get(value) or 0) for value in Domain.values] + [float(sums.get("") or 0)]
    return _figure("hours-per-domain", labels, values)


def courses_per_month(scope: UnitScope, year: int) -> Figure:
    start, end = academic_year_bounds(year)
    counts = {
        month.month: n
        for month, n in Course.objects.filter(scope.q("organiser"))
        .exclude(status__in=[CourseStatus.REGISTERING, CourseStatus.CANCELLED])
        .filter(start_date__gte=start, start_date__lte=end)
        .annotate(month=TruncMonth("start_date"))
        .order_by()
        .values_list("month")
        .annotate(n=Count("pk"))
    }
    months = [8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7]
    labels = [f"{year if m >= 8 else year + 1}年{m}月" for m in months]
    return _figure("courses-per-month", labels, [counts.get(m, 0) for m in months])


BUILDERS = {
    "hours-per-teacher": hours_per_teacher,
    "hours-per-domain": hours_per_domain,
    "courses-per-month": courses_per_month,
}


def figures(scope: UnitScope, year: int) -> list[Figure]:
    return [build(scope, year) for build in BUILDERS.values()]
