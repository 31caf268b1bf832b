"""PostgreSQL ranks the teachers in SQL: the same figures as rewards.pr, row for row (SPEC §7)."""

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection

from rewards import job

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL ranking is PostgreSQL's")


def _ranks_both_ways(hours_of_groups, width):
    job._execute(
        f"CREATE TEMPORARY TABLE {job.POPULATION} (authority_id bigint, stage varchar(10), hours numeric(10, 1))"
    )
    rows = [(a, s, h) for (a, s), values in hours_of_groups.items() for h in values]
    job._insert_table(job.POPULATION, None, rows)
    total = sum((h for _, _, h in rows), Decimal(0))
    result = job.Computation(run_id=0, year=113, width=width)
    result.population, result.total_hours, result.average = len(rows), total, Fraction(total) / len(rows)
    job._rank_teachers_in_sql(result)
    in_sql = set(job._fetch(f"SELECT * FROM {job.RANKS}"))
    job._execute(f"DROP TABLE {job.RANKS}")
    job._rank_teachers_in_python(result)
    in_python = set(job._fetch(f"SELECT * FROM {job.RANKS}"))
    job._drop_temporary_tables()
    return in_sql, in_python


@pytest.mark.parametrize(
    "width", [Decimal("1"), Decimal("0.5"), Decimal("2.5"), Decimal("0.35"), Decimal("7.77")]
)
def test_sql_ranks_are_rewards_pr_s(db, width):
    chance = random.Random(f"ranks {width}")
    groups = {
        (authority, stage): [
            Decimal(chance.choice([0, 0, chance.randrange(0, 3000)])) / 10 for _ in range(size)
        ]
        for authority, stage, size in [(1, "國小", 300), (1, "國中", 1), (2, "國小", 57), (3, "高職", 2)]
    }
    groups[(4, "高中")] = [
        Decimal("2.5"),
        Decimal("2.5"),
        Decimal("3.5"),
        Decimal("0.5"),
        Decimal(0),
    ]  # half-ups
    in_sql, in_python = _ranks_both_ways(groups, width)
    assert in_sql == in_python
    assert len(in_sql) == len({(a, s, h) for (a, s), values in groups.items() for h in values})
