"""The year-end computation (SPEC §7): read roster, hours and plans; decide; write the results.

The database does the heavy part in one statement: the population (each person's membership in
force on 31 July, kept when it is 教師 at an in-scope school) joined to one GROUP BY of the
year's issued hours. Python then takes the 200,000 (person, school, group, hours) rows, ranks
each group with rewards.pr and writes the results in bulk (COPY on PostgreSQL). Nothing here
writes outside the rewards tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.utils import timezone

from accounts.models import PLANNING_STAGES, UnitKind
from core.roc import academic_year_bounds
from courses.models import IssuedHours
from planning.fill_rates import school_plan_fill_rates
from planning.models import PlanKind, SchoolPlan, TeacherPlan
from planning.windows import windows_by_authority
from rewards import pr
from rewards.models import AuthorityResult, RunStage, SchoolResult, TeacherResult
from teachers.models import Category, Membership

Progress = Callable[[str, int], None]

AUTHORITY_FILL_RATE = Fraction(60, 100)  # "填報率達 60% 以上"
TENTH = Decimal("0.1")


class EmptyPopulation(Exception):
    pass


def population_day(year: int) -> dt.date:
    """31 July of academic year `year`: the day the population is taken."""
    return academic_year_bounds(year)[1]


def _population_sql(stages) -> str:
    membership = Membership._meta.db_table
    unit = "accounts_unit"
    hours = IssuedHours._meta.db_table
    stage_marks = ", ".join(["%s"] * len(stages))
    # On 31 July a person may have two memberships in force (one ending that day, one starting
    # it): the latest started one is their membership of the day, and it alone decides.
    return f"""
        WITH in_force AS (
            SELECT m.person_id, m.unit_id, m.category,
                   ROW_NUMBER() OVER (PARTITION BY m.person_id ORDER BY m.start_date DESC, m.id DESC) AS rn
            FROM {membership} m
            WHERE m.start_date <= %s AND (m.end_date IS NULL OR m.end_date >= %s)
        ),
        population AS (
            SELECT f.person_id, u.id AS school_id, u.authority_id, u.stage
            FROM in_force f JOIN {unit} u ON u.id = f.unit_id
            WHERE f.rn = 1 AND f.category = %s AND u.kind = %s AND u.stage IN ({stage_marks})
        ),
        year_hours AS (
            SELECT h.person_id, SUM(h.hours) AS total
            FROM {hours} h
            WHERE h.date >= %s AND h.date <= %s
            GROUP BY h.person_id
        )
        SELECT p.person_id, p.school_id, p.authority_id, p.stage, y.total
        FROM population p LEFT JOIN year_hours y ON y.person_id = p.person_id
    """


def _hours(value) -> Decimal:
    """An exact hours total: PostgreSQL sums numeric exactly; SQLite hands back a float of tenths."""
    if value is None:
        return Decimal("0.0")
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(TENTH)
    return Decimal(value).quantize(TENTH)


@dataclass
class Computation:
    year: int
    width: Decimal
    population: int = 0
    total_hours: Decimal = Decimal(0)
    average: Fraction = Fraction(0)
    teachers: list[tuple] = field(default_factory=list)
    schools: list[tuple] = field(default_factory=list)
    authorities: list[tuple] = field(default_factory=list)
    awarded: dict[str, int] = field(default_factory=dict)

    @property
    def average_stored(self) -> Decimal:
        return pr.floor_decimal(self.average, 6)

    def summary(self) -> dict:
        return {
            "national_average": str(self.average_stored),
            "population": self.population,
            "total_hours": str(self.total_hours),
            "class_width": str(self.width),
            "teachers": len(self.teachers),
            "schools": len(self.schools),
            "authorities": len(self.authorities),
            "teachers_awarded": self.awarded.get("teacher", 0),
            "schools_awarded": self.awarded.get("school", 0),
            "authorities_awarded": self.awarded.get("authority", 0),
        }


def _plan_times(model, key: str, year: int) -> dict[int, dt.datetime]:
    """Submitted plans whose year is Y, whenever they were stamped (SPEC §7 readings)."""
    return dict(
        model.objects.filter(year=year, submitted_at__isnull=False)
        .values_list(key, "submitted_at")
        .iterator(chunk_size=20000)
    )


def _window(windows, authority_id):
    window = windows.get(authority_id)
    if window is None:
        return None, None, None
    return window, window.opens_at, window.closes_at


def _in_window(window, opens, closes, instant) -> bool:
    """Strictly inside or outside is plain; on a bound, planning's window rule decides."""
    if window is None or instant is None:
        return False
    if opens < instant < closes:
        return True
    if instant < opens or instant > closes:
        return False
    return window.contains(instant)


def _ranked(values, width) -> list[tuple]:
    """(rank, pr stored, lower limit stored, top 30) per value, each computed once per distinct rank."""
    cache: dict[int, tuple] = {}
    out = []
    for rank in pr.ranks(values, width):
        entry = cache.get(id(rank))
        if entry is None:
            entry = (
                rank,
                pr.floor_decimal(rank.pr, 6),
                pr.floor_decimal(rank.lower_limit, 6),
                pr.is_top_30(rank.pr),
            )
            cache[id(rank)] = entry
        out.append(entry)
    return out


def compute(*, run_id: int, year: int, width: Decimal, progress: Progress) -> Computation:
    day = population_day(year)
    first, last = academic_year_bounds(year)
    result = Computation(year=year, width=width)
    stages = [str(s) for s in PLANNING_STAGES]

    progress(RunStage.POPULATION, 5)
    with connection.cursor() as cursor:
        cursor.execute(
            _population_sql(stages),
            [day, day, str(Category.TEACHER), str(UnitKind.SCHOOL), *stages, first, last],
        )
        rows = [(p, s, a, st, _hours(t)) for p, s, a, st, t in cursor.fetchall()]
    rows.sort(key=lambda r: r[0])
    if not rows:
        raise EmptyPopulation
    progress(RunStage.RANKING, 35)

    n = len(rows)
    total = sum((r[4] for r in rows), Decimal(0))
    average = Fraction(total) / n
    result.population, result.total_hours, result.average = n, total, average
    a_stored = result.average_stored

    teacher_plans = _plan_times(TeacherPlan, "person_id", year)
    school_plans = _plan_times(SchoolPlan, "school_id", year)
    teacher_windows = windows_by_authority(year=year, kind=PlanKind.TEACHER)
    school_windows = windows_by_authority(year=year, kind=PlanKind.SCHOOL)

    # Teachers: PR within (authority, stage).
    groups: dict[tuple, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        groups[(row[2], row[3])].append(index)
    at_least: dict[Decimal, bool] = {}
    awarded = 0
    teachers = []
    for (authority_id, stage), members in groups.items():
        window, opens, closes = _window(teacher_windows, authority_id)
        ranked = _ranked([rows[i][4] for i in members], width)
        size = len(members)
        for i, (rank, pr_stored, lower, top) in zip(members, ranked, strict=True):
            person_id, school_id, _, _, hours = rows[i]
            enough = at_least.get(hours)
            if enough is None:
                enough = at_least[hours] = Fraction(hours) >= average
            submitted = teacher_plans.get(person_id)
            in_window = _in_window(window, opens, closes, submitted)
            won = in_window and enough and top
            awarded += won
            teachers.append(
                (run_id, year, a_stored, won, authority_id, stage, size, pr_stored, lower, rank.below,
                 rank.in_class, enough, top, submitted, opens, closes, in_window, person_id, school_id, hours)
            )  # fmt: skip
    result.teachers = teachers
    result.awarded["teacher"] = awarded

    # Schools: the average of their population teachers, PR among the schools of the group.
    per_school: dict[int, list] = {}
    for _, school_id, authority_id, stage, hours in rows:
        entry = per_school.get(school_id)
        if entry is None:
            per_school[school_id] = [authority_id, stage, 1, hours]
        else:
            entry[2] += 1
            entry[3] += hours
    school_groups: dict[tuple, list[int]] = defaultdict(list)
    for school_id, (authority_id, stage, _, _) in per_school.items():
        school_groups[(authority_id, stage)].append(school_id)
    awarded = 0
    schools = []
    for (authority_id, stage), members in sorted(school_groups.items()):
        members.sort()
        window, opens, closes = _window(school_windows, authority_id)
        averages = [Fraction(per_school[s][3]) / per_school[s][2] for s in members]
        ranked = _ranked(averages, width)
        for school_id, school_average, (rank, pr_stored, lower, top) in zip(
            members, averages, ranked, strict=True
        ):
            _, _, count, hours_total = per_school[school_id]
            enough = school_average >= average
            submitted = school_plans.get(school_id)
            in_window = _in_window(window, opens, closes, submitted)
            won = in_window and enough and top
            awarded += won
            schools.append(
                (run_id, year, a_stored, won, authority_id, stage, len(members), pr_stored, lower, rank.below,
                 rank.in_class, enough, top, submitted, opens, closes, in_window, school_id, count, hours_total,
                 pr.floor_decimal(school_average, 6))
            )  # fmt: skip
    result.schools = schools
    result.awarded["school"] = awarded

    # Authorities: planning's own fill rate, every in-scope school in the denominator.
    awarded = 0
    authorities = []
    for authority_id, rate in sorted(school_plan_fill_rates(year=year).items()):
        if not rate.total:
            continue
        won = rate.rate >= AUTHORITY_FILL_RATE
        awarded += won
        authorities.append(
            (
                run_id,
                year,
                a_stored,
                won,
                authority_id,
                rate.total,
                rate.submitted,
                pr.floor_decimal(rate.rate, 6),
            )
        )
    result.authorities = authorities
    result.awarded["authority"] = awarded
    return result


TEACHER_COLUMNS = (
    "run_id", "year", "national_average", "awarded", "authority_id", "stage", "group_size", "pr",
    "class_lower_limit", "below", "in_class", "at_least_average", "top_30", "plan_submitted_at",
    "window_opens_at", "window_closes_at", "plan_in_window", "person_id", "school_id", "hours",
)  # fmt: skip
SCHOOL_COLUMNS = TEACHER_COLUMNS[:-3] + ("school_id", "teachers", "total_hours", "average")
AUTHORITY_COLUMNS = (
    "run_id", "year", "national_average", "awarded", "authority_id", "schools_total", "schools_submitted",
    "fill_rate",
)  # fmt: skip


def _insert(model, columns, rows) -> None:
    table = model._meta.db_table
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            adapt = connection.ops.adapt_datetimefield_value
            for start in range(0, len(rows), 5000):
                batch = [
                    tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row)
                    for row in rows[start : start + 5000]
                ]
                cursor.executemany(sql, batch)


def replace_results(computation: Computation, progress: Progress) -> None:
    """Delete the year's previous results and write these; the caller's transaction publishes them."""
    year = computation.year
    progress(RunStage.WRITING, 60)
    for model in (TeacherResult, SchoolResult, AuthorityResult):
        model.objects.filter(year=year).delete()
    _insert(AuthorityResult, AUTHORITY_COLUMNS, computation.authorities)
    _insert(SchoolResult, SCHOOL_COLUMNS, computation.schools)
    progress(RunStage.WRITING, 70)
    _insert(TeacherResult, TEACHER_COLUMNS, computation.teachers)
    progress(RunStage.PUBLISHING, 95)


def now() -> dt.datetime:
    return timezone.now()
