"""研習紀錄 (SPEC §5): a teacher's courses and issued hours per academic year (1 Aug – 31 Jul).

Reads only; every figure sums IssuedHours. Kindergarten staff also see their 教保研習 hours: the
courses tagged with one of KINDERGARTEN_TAGS, against the 18 hours a year the law asks of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Min, QuerySet, Sum
from django.utils import timezone

from accounts.models import Person, Stage
from core.exports import Column, Kind, Table
from core.roc import academic_year, academic_year_bounds, format_roc_date
from courses.models import Course, IssuedHours
from teachers.models import Membership

KINDERGARTEN_TAGS = ("幼兒園教保專業知能", "基本救命術訓練", "安全教育")
KINDERGARTEN_MIN_HOURS = Decimal("18")
XLSX_COLUMNS = (
    *(Column(title) for title in ("課程代碼", "課程名稱", "開課單位", "研習範疇", "研習日期")),
    Column("時數", Kind.DECIMAL),
    Column("來源"),
)


@dataclass
class YearRecord:
    year: int
    start: dt.date
    end: dt.date
    rows: list[IssuedHours]
    total: Decimal
    minimum: Decimal
    kindergarten: bool = False
    kindergarten_hours: Decimal = Decimal("0")
    kindergarten_minimum: Decimal = KINDERGARTEN_MIN_HOURS
    years: list[int] = field(default_factory=list)

    @property
    def meets_minimum(self) -> bool:
        return self.total >= self.minimum

    @property
    def shortfall(self) -> Decimal:
        return max(self.minimum - self.total, Decimal("0"))

    @property
    def meets_kindergarten(self) -> bool:
        return self.kindergarten_hours >= self.kindergarten_minimum


def current_year() -> int:
    return academic_year(timezone.localdate())


def hours_of(person: Person) -> QuerySet[IssuedHours]:
    return IssuedHours.objects.filter(person=person)


def years_of(person: Person) -> list[int]:
    """The academic years from the first issued hours to now, newest first (always the current one)."""
    span = hours_of(person).aggregate(first=Min("date"), last=Max("date"))
    now = current_year()
    first = academic_year(span["first"]) if span["first"] else now
    last = max(academic_year(span["last"]) if span["last"] else now, now)
    return list(range(last, first - 1, -1))


def kindergarten_courses() -> QuerySet[Course]:
    return Course.objects.filter(tags__name__in=KINDERGARTEN_TAGS).values("pk")


def is_kindergarten_staff(person: Person, *, on: dt.date | None = None) -> bool:
    """Serving (on the day, default today) at a 幼兒園-stage unit."""
    day = on or timezone.localdate()
    return Membership.objects.on(day).filter(person=person, unit__stage=Stage.KINDERGARTEN).exists()


def kindergarten_hours(person: Person, year: int) -> Decimal:
    total = (
        hours_of(person)
        .in_year(year)
        .filter(course__in=kindergarten_courses())
        .aggregate(total=Sum("hours"))["total"]
    )
    return total or Decimal("0")


def year_record(person: Person, year: int, *, years: list[int] | None = None) -> YearRecord:
    """One academic year of the person's record: rows in date order, the total, the minimum.
    `years`: the person's years_of when the caller has read them already (not read twice)."""
    start, end = academic_year_bounds(year)
    rows = list(
        hours_of(person)
        .in_year(year)
        .select_related("course", "course__organiser")
        .order_by("date", "course__code", "pk")
    )
    total = sum((row.hours for row in rows), Decimal("0"))
    record = YearRecord(
        year=year,
        start=start,
        end=end,
        rows=rows,
        total=total,
        minimum=Decimal(settings.SUPERVISION_MIN_HOURS),
        years=years_of(person) if years is None else years,
    )
    if is_kindergarten_staff(person):
        record.kindergarten = True
        record.kindergarten_hours = kindergarten_hours(person, year)
    return record


def course_hours(person: Person, course: Course) -> Decimal | None:
    """The hours issued to the person for one course, or None when none were issued."""
    result = hours_of(person).filter(course=course).aggregate(total=Sum("hours"))["total"]
    return result


def _record_rows(record: YearRecord) -> Iterator[tuple]:
    for row in record.rows:
        course = row.course
        yield (course.code or "", course.title, course.organiser.name, course.get_domain_display(),
               format_roc_date(row.date), row.hours, row.get_source_display())  # fmt: skip
    yield ("", "合計", "", "", "", record.total, "")
    yield ("", "統合視導最低時數", "", "", "", record.minimum, "")
    if record.kindergarten:
        yield ("", "教保研習時數", "", "", "", record.kindergarten_hours, "")


def record_table(person: Person, record: YearRecord) -> Table:
    """研習紀錄 as a sheet: a title and the period above the header, the year's rows, the totals."""
    before = (
        (f"{person.name} {record.year} 學年度研習紀錄",),
        (f"{format_roc_date(record.start)}至{format_roc_date(record.end)}",),
    )
    return Table(f"{record.year}學年度", XLSX_COLUMNS, _record_rows(record), before=before)
