"""The year-end computation (SPEC §7): read roster, hours and plans; decide; write the results.

Set-based: the database builds the population in one statement into a temporary table — each
person's membership in force on 31 July, kept when it is 教師 at an in-scope school, joined to
one GROUP BY of the year's issued hours and to the person's teacher plan of year Y. Each
(authority, stage) group is ranked from its distinct hours values alone (about 35,000 (group,
hours) counts at national scale, not 200,000 teachers): on PostgreSQL by one statement of window
functions doing rewards.pr's exact arithmetic, elsewhere by rewards.pr itself; and one
INSERT … SELECT writes every teacher's result from the population joined to those ranks.
Schools (3,900) and authorities (23) are decided in Python. Nothing here writes outside the
rewards tables (and its own temporary tables).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from accounts.models import in_planning_scope_sql
from core.dataexchange import tune_session
from core.roc import academic_year_bounds
from courses.models import IssuedHours
from planning.fill_rates import school_plan_fill_rates
from planning.models import PlanKind, PlanningWindow, SchoolPlan, TeacherPlan
from planning.windows import windows_by_authority
from rewards import pr
from rewards.models import AuthorityResult, RewardRun, RunStage, SchoolResult, TeacherResult
from teachers.models import Category, Membership

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]

AUTHORITY_FILL_RATE = Fraction(60, 100)  # "填報率達 60% 以上"
TENTH = Decimal("0.1")
POPULATION = "rewards_tmp_population"
WINDOWS = "rewards_tmp_windows"
RANKS = "rewards_tmp_ranks"
PEOPLE = "rewards_tmp_people"


class EmptyPopulation(Exception):
    pass


def population_day(year: int) -> dt.date:
    """31 July of academic year `year`: the day the population is taken."""
    return academic_year_bounds(year)[1]


def _population_sql(year: int) -> tuple[str, list]:
    """(person, school, authority, stage, hours) of the population, and its parameters."""
    membership = Membership._meta.db_table
    unit = "accounts_unit"
    day = population_day(year)
    in_scope, scope_params = in_planning_scope_sql("u.id")
    # The year's hours are IssuedHours.objects.in_year's, compiled by the ORM into the statement.
    year_hours, hours_params = (
        IssuedHours.objects.in_year(year)
        .order_by()
        .values("person_id")
        .annotate(total=Sum("hours"))
        .query.sql_with_params()
    )
    # On 31 July a person may have two memberships in force (one ending that day, one starting
    # it): the latest started one is their membership of the day, and it alone decides.
    return (
        f"""
        WITH in_force AS (
            SELECT m.person_id, m.unit_id, m.category,
                   ROW_NUMBER() OVER (PARTITION BY m.person_id ORDER BY m.start_date DESC, m.id DESC) AS rn
            FROM {membership} m
            WHERE m.start_date <= %s AND (m.end_date IS NULL OR m.end_date >= %s)
        ),
        population AS (
            SELECT f.person_id, u.id AS school_id, u.authority_id, u.stage
            FROM in_force f JOIN {unit} u ON u.id = f.unit_id
            WHERE f.rn = 1 AND f.category = %s AND {in_scope}
        ),
        year_hours AS ({year_hours})
        SELECT p.person_id, p.school_id, p.authority_id, p.stage,
               -- exact on PostgreSQL (numeric); on SQLite it brings a float sum back to its tenths
               COALESCE(ROUND(y.total, 1), 0) AS hours
        FROM population p LEFT JOIN year_hours y ON y.person_id = p.person_id
    """,
        [day, day, str(Category.TEACHER), *scope_params, *hours_params],
    )


def _exact(value) -> Decimal:
    """An hours figure as an exact Decimal (SQLite hands sums back as floats of tenths)."""
    if value is None:
        return Decimal("0.0")
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(TENTH)
    return Decimal(value)


@dataclass
class Computation:
    run_id: int
    year: int
    width: Decimal
    population: int = 0
    total_hours: Decimal = Decimal(0)
    average: Fraction = Fraction(0)
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
            "teachers": self.population,
            "schools": len(self.schools),
            "authorities": len(self.authorities),
            "teachers_awarded": self.awarded.get("teacher", 0),
            "schools_awarded": self.awarded.get("school", 0),
            "authorities_awarded": self.awarded.get("authority", 0),
        }


def _param(value):
    """A parameter for raw SQL: SQLite stores datetimes as naive UTC text, as Django does."""
    if isinstance(value, dt.datetime) and connection.vendor != "postgresql":
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(p) for p in params])


def _fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(p) for p in params])
        return cursor.fetchall()


def _drop_temporary_tables() -> None:
    for table in (PEOPLE, POPULATION, WINDOWS, RANKS):
        _execute(f"DROP TABLE IF EXISTS {table}")


def _timestamp_type() -> str:
    return "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"


def _build_population(year: int) -> None:
    """The population with hours, teacher plan and its window, as a temporary table."""
    ts = _timestamp_type()
    _drop_temporary_tables()
    _execute(
        f"CREATE TEMPORARY TABLE {WINDOWS} (authority_id bigint PRIMARY KEY, opens_at {ts}, closes_at {ts})"
    )
    windows = windows_by_authority(year=year, kind=PlanKind.TEACHER)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {WINDOWS} VALUES (%s, %s, %s)",
            [(a, _param(w.opens_at), _param(w.closes_at)) for a, w in windows.items()],
        )
    plans = TeacherPlan._meta.db_table
    # Two steps, each analysed: the planner cannot estimate the population (the latest membership
    # in force, filtered) and took 833 people for 176,443, probing the plans' index once per person
    # instead of one hash join; counted into a table, the join to the plans is planned on real rows.
    population, params = _population_sql(year)
    _execute(f"CREATE TEMPORARY TABLE {PEOPLE} AS {population}", params)
    if connection.vendor == "postgresql":
        _execute(f"ANALYZE {PEOPLE}")
        _execute(f"ANALYZE {WINDOWS}")
    # The bounds are planning's own (PlanningWindow.opens_at/closes_at) and so is the rule
    # (PlanningWindow.admits_sql), as the fill rates read it as a Q.
    in_window = PlanningWindow.admits_sql(
        submitted="tp.submitted_at", extended="tp.extended_until", opens="w.opens_at", closes="w.closes_at"
    )
    _execute(
        f"""
        CREATE TEMPORARY TABLE {POPULATION} AS
        SELECT p.person_id, p.school_id, p.authority_id, p.stage, p.hours,
               tp.submitted_at AS plan_submitted_at, w.opens_at, w.closes_at, {in_window} AS in_window
        FROM {PEOPLE} p
        LEFT JOIN {plans} tp ON tp.person_id = p.person_id AND tp.year = %s AND tp.submitted_at IS NOT NULL
        LEFT JOIN {WINDOWS} w ON w.authority_id = p.authority_id
        """,
        [year],
    )
    _execute(f"DROP TABLE {PEOPLE}")
    if connection.vendor == "postgresql":
        _execute(f"ANALYZE {POPULATION}")


RANKS_COLUMNS = """authority_id bigint, stage varchar(10), hours numeric(10, 1), group_size integer,
    pr numeric(9, 6), class_lower_limit numeric(12, 6), below integer, in_class integer,
    top_30 boolean, at_least_average boolean"""


def _rank_teachers(result: Computation) -> None:
    """Rank each group from its distinct hours into a temporary table to join (SPEC §7's PR).

    PostgreSQL ranks in one statement; elsewhere (SQLite, whose sums are floats) rewards.pr does.
    """
    if connection.vendor == "postgresql":
        _rank_teachers_in_sql(result)
    else:
        _rank_teachers_in_python(result)


def _rank_teachers_in_sql(result: Computation) -> None:
    """rewards.pr's arithmetic as window functions over the (group, hours) counts, exact.

    Every figure is numeric, and numeric +, − and × are exact; the one quotient, the PR, is
    never divided: the decision compares its numerator and denominator (PR ≥ 70 ⇔ num ≥ 70 ×
    den), the stored PR is div() (an exact truncated quotient) of num × 10⁶ by den. With X's
    class index k = floor((2X + i) / 2i) (round-half-up(X / i)), the centre is c = k × i,
    X_L = c − i/2, f_x = the members of class k and cf_L = the members of the classes below k
    (a value below X_L has a lower class index, one at or above it does not). hours ≥ A is
    hours × n ≥ total, A's own fraction.
    """
    w = result.width
    _execute(
        f"""
        CREATE TEMPORARY TABLE {RANKS} AS
        WITH counts AS (
            SELECT authority_id, stage, hours, COUNT(*) AS n, 2 * hours + %s AS twice, 2 * %s::numeric AS per
            FROM {POPULATION} GROUP BY authority_id, stage, hours
        ),
        classed AS (
            SELECT authority_id, stage, hours, n,
                   -- floor, as div() truncates towards zero
                   div(twice, per) - CASE WHEN twice < 0 AND mod(twice, per) <> 0 THEN 1 ELSE 0 END AS k
            FROM counts
        ),
        counted AS (
            SELECT authority_id, stage, hours, k * %s - %s * 0.5 AS lower,
                   SUM(n) OVER (PARTITION BY authority_id, stage) AS size,
                   SUM(n) OVER (PARTITION BY authority_id, stage, k) AS in_class,
                   SUM(n) OVER (PARTITION BY authority_id, stage ORDER BY k RANGE UNBOUNDED PRECEDING)
                     - SUM(n) OVER (PARTITION BY authority_id, stage, k) AS below
            FROM classed
        ),
        figured AS (
            SELECT *, 100 * (below * %s + (hours - lower) * in_class) AS num, %s * size AS den
            FROM counted
        )
        SELECT authority_id::bigint, stage::varchar(10), hours::numeric(10, 1), size::integer AS group_size,
               (div(num * 1000000, den) * 0.000001)::numeric(9, 6) AS pr,
               lower::numeric(12, 6) AS class_lower_limit, below::integer, in_class::integer,
               num >= 70 * den AS top_30, hours * %s >= %s AS at_least_average
        FROM figured
        """,
        [w, w, w, w, w, w, result.population, result.total_hours],
    )
    _execute(f"ANALYZE {RANKS}")  # a hash join, not a merge join on a row estimate of 1


def _rank_teachers_in_python(result: Computation) -> None:
    counts: dict[tuple, dict[Decimal, int]] = defaultdict(dict)
    for authority_id, stage, hours, n in _fetch(
        f"SELECT authority_id, stage, hours, COUNT(*) FROM {POPULATION} GROUP BY authority_id, stage, hours"
    ):
        counts[(authority_id, stage)][_exact(hours)] = n
    rows = []
    for (authority_id, stage), group in counts.items():
        for hours, rank in pr.ranks_of_counts(group, result.width).items():
            rows.append(
                (authority_id, stage, hours, rank.size, pr.floor_decimal(rank.pr, 6),
                 pr.floor_decimal(rank.lower_limit, 6), rank.below, rank.in_class, pr.is_top_30(rank.pr),
                 Fraction(hours) >= result.average)
            )  # fmt: skip
    _execute(f"CREATE TEMPORARY TABLE {RANKS} ({RANKS_COLUMNS})")
    _insert_table(RANKS, None, rows)


def compute(*, run_id: int, year: int, width: Decimal, progress: Progress) -> Computation:
    result = Computation(run_id=run_id, year=year, width=width)
    progress(RunStage.POPULATION, 5)
    tune_session(connection)  # sorts and hashes of 200,000 rows in memory (PostgreSQL only)
    if connection.vendor == "postgresql":
        # Each statement here is over the JIT's cost threshold and runs once: compiling it cost
        # 50-100 ms a statement and won nothing. The temporary tables' statistics serve row counts
        # and distinct counts for a few joins: a sample of 3,000 rows (not 30,000) gives them.
        _execute("SET LOCAL jit = off")
        _execute("SET LOCAL default_statistics_target = 10")
    _build_population(year)
    progress(RunStage.RANKING, 35)
    ((n, total),) = _fetch(f"SELECT COUNT(*), SUM(hours) FROM {POPULATION}")
    if not n:
        _drop_temporary_tables()
        raise EmptyPopulation
    total = _exact(total)
    result.population, result.total_hours, result.average = n, total, Fraction(total) / n
    _rank_teachers(result)
    progress(RunStage.RANKING, 50)
    result.schools, result.awarded["school"] = _schools(result)
    result.authorities, result.awarded["authority"] = _authorities(result)
    return result


def _schools(result: Computation) -> tuple[list[tuple], int]:
    """The average of each school's population teachers, PR among the schools of its group."""
    a_stored = result.average_stored
    per_school = _fetch(
        f"SELECT school_id, authority_id, stage, COUNT(*), SUM(hours) FROM {POPULATION} "
        "GROUP BY school_id, authority_id, stage"
    )
    plans = dict(
        SchoolPlan.objects.filter(year=result.year, submitted_at__isnull=False).values_list(
            "school_id", "submitted_at"
        )
    )
    # A recorded extension (SPEC §6) counts as the plan's window: a 確認送出 by then is inside.
    extended = dict(
        SchoolPlan.objects.filter(year=result.year, extended_until__isnull=False).values_list(
            "school_id", "extended_until"
        )
    )
    windows = windows_by_authority(year=result.year, kind=PlanKind.SCHOOL)
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for school_id, authority_id, stage, count, total in per_school:
        total = _exact(total)
        groups[(authority_id, stage)].append((school_id, count, total, Fraction(total) / count))
    awarded = 0
    rows = []
    for (authority_id, stage), members in sorted(groups.items()):
        members.sort()
        window = windows.get(authority_id)
        opens, closes = (window.opens_at, window.closes_at) if window else (None, None)
        ranks = pr.ranks_of_counts(Counter(m[3] for m in members), result.width)
        for school_id, count, total, average in members:
            rank = ranks[average]
            enough = average >= result.average
            top = pr.is_top_30(rank.pr)
            submitted = plans.get(school_id)
            until = extended.get(school_id)
            in_window = window is not None and window.admits(submitted, until)
            won = in_window and enough and top
            awarded += won
            rows.append(
                (result.run_id, result.year, a_stored, won, authority_id, stage, len(members),
                 pr.floor_decimal(rank.pr, 6), pr.floor_decimal(rank.lower_limit, 6), rank.below, rank.in_class,
                 enough, top, submitted, opens, closes, in_window, school_id, count, total,
                 pr.floor_decimal(average, 6))
            )  # fmt: skip
    return rows, awarded


def _authorities(result: Computation) -> tuple[list[tuple], int]:
    """Planning's own fill rate, every in-scope school in the denominator."""
    awarded = 0
    rows = []
    for authority_id, rate in sorted(school_plan_fill_rates(year=result.year).items()):
        if not rate.total:
            continue
        won = rate.rate >= AUTHORITY_FILL_RATE
        awarded += won
        rows.append(
            (result.run_id, result.year, result.average_stored, won, authority_id, rate.total, rate.submitted,
             pr.floor_decimal(rate.rate, 6))
        )  # fmt: skip
    return rows, awarded


RANKED_COLUMNS = (
    "run_id", "year", "national_average", "awarded", "authority_id", "stage", "group_size", "pr",
    "class_lower_limit", "below", "in_class", "at_least_average", "top_30", "plan_submitted_at",
    "window_opens_at", "window_closes_at", "plan_in_window",
)  # fmt: skip
SCHOOL_COLUMNS = RANKED_COLUMNS + ("school_id", "teachers", "total_hours", "average")
TEACHER_COLUMNS = RANKED_COLUMNS + ("person_id", "school_id", "hours")
AUTHORITY_COLUMNS = (
    "run_id", "year", "national_average", "awarded", "authority_id", "schools_total", "schools_submitted",
    "fill_rate",
)  # fmt: skip


def _insert_table(table: str, columns, rows) -> None:
    names = f" ({', '.join(columns)})" if columns else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table}{names} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            width = len(rows[0]) if rows else 0
            sql = f"INSERT INTO {table}{names} VALUES ({', '.join(['%s'] * width)})"
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, [tuple(_param(v) for v in row) for row in rows[start : start + 5000]])


def _insert(model, columns, rows) -> None:
    _insert_table(model._meta.db_table, columns, rows)


def run_partition(run_id: int) -> str:
    """PostgreSQL: the table of one run's teacher results, a partition of TeacherResult's."""
    return f"{TeacherResult._meta.db_table}_run_{int(run_id)}"


def _insert_teachers(computation: Computation) -> int:
    """Every teacher's result in one INSERT … SELECT: the population joined to its group's ranks.

    PostgreSQL: into a table of the run's own, without indexes, then attached as the run's
    partition (rewards migration 0003), which builds its indexes in one sort each. The new table
    and its attachment are part of the run's transaction: a killed worker leaves neither.
    Attaching locks the parent in SHARE UPDATE EXCLUSIVE mode only: readers go on reading.
    """
    table = TeacherResult._meta.db_table
    pg = connection.vendor == "postgresql"
    target = table
    if pg:
        # The planner merge-joined the ranks by sorting all 176,443 people on (hours, authority,
        # stage), 0.8 s; one hash of the 33,000 ranks and one pass over the people is 0.1 s.
        _execute("SET LOCAL enable_mergejoin = off")
        target = run_partition(computation.run_id)
        _execute(f"CREATE TABLE {target} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    _execute(
        f"""
        INSERT INTO {target} ({", ".join(TEACHER_COLUMNS)})
        SELECT %s, %s, %s, (p.in_window AND r.top_30 AND r.at_least_average), p.authority_id, p.stage,
               r.group_size, r.pr, r.class_lower_limit, r.below, r.in_class, r.at_least_average, r.top_30,
               p.plan_submitted_at, p.opens_at, p.closes_at, p.in_window, p.person_id, p.school_id, p.hours
        FROM {POPULATION} p
        JOIN {RANKS} r ON r.authority_id = p.authority_id AND r.stage = p.stage AND r.hours = p.hours
        """,
        [computation.run_id, computation.year, computation.average_stored],
    )
    if pg:
        _execute("SET LOCAL enable_mergejoin = on")
        _execute(f"ALTER TABLE {table} ATTACH PARTITION {target} FOR VALUES IN ({int(computation.run_id)})")
    ((awarded,),) = _fetch(
        f"SELECT COUNT(*) FROM {table} WHERE run_id = %s AND awarded = %s", [computation.run_id, True]
    )
    return awarded


def drop_partitions(run_ids) -> None:
    """Drop the (emptied) partitions of replaced runs; one busy is left for the next run's turn."""
    for run_id in run_ids:
        try:
            with transaction.atomic():
                _execute("SET LOCAL lock_timeout = '200ms'")
                _execute(f"DROP TABLE IF EXISTS {run_partition(run_id)}")
        except DatabaseError:
            logger.warning("reward run %s: its emptied partition is left for the next run", run_id)


def replace_results(computation: Computation, progress: Progress) -> None:
    """Delete the year's previous results and write these; the caller's transaction publishes them."""
    year = computation.year
    progress(RunStage.WRITING, 60)
    replaced = list(
        RewardRun.objects.filter(year=year).exclude(pk=computation.run_id).values_list("pk", flat=True)
    )
    for model in (TeacherResult, SchoolResult, AuthorityResult):
        model.objects.filter(run_id__in=replaced).delete()
    if connection.vendor == "postgresql" and replaced:
        # Their partitions are empty once this commits; dropping one locks the parent exclusively,
        # so that is done after the commit, briefly, and not at all while readers hold it.
        transaction.on_commit(lambda: drop_partitions(replaced))
    _insert(AuthorityResult, AUTHORITY_COLUMNS, computation.authorities)
    _insert(SchoolResult, SCHOOL_COLUMNS, computation.schools)
    progress(RunStage.WRITING, 70)
    computation.awarded["teacher"] = _insert_teachers(computation)
    _drop_temporary_tables()
    progress(RunStage.PUBLISHING, 95)
