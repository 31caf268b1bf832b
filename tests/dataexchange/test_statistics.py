"""Every import leaves fresh planner statistics on the tables it wrote (issue 22 point 2).

Autovacuum may be off or late; without statistics the planner takes a 200,000-row table for a
few hundred rows. ANALYZE sets pg_class.reltuples to the table's row count, which nothing else
in an ordinary (non --bulk) import does, so the test fails when an import stops analysing.
"""

import pytest
from django.db import connection

from core import dataexchange
from tests.dataexchange.conftest import run

pytestmark = pytest.mark.django_db

KINDS = ("units", "roster", "hours", "plans")


def estimates(tables) -> dict[str, tuple[float, int]]:
    out = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            (reltuples,) = cursor.fetchone()
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            (rows,) = cursor.fetchone()
            out[table] = (reltuples, rows)
    return out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
def test_each_import_analyses_the_tables_it_changed(tmp_path):
    assert run("seed_national", "--teachers", "300", "--seed", "3", "--out", tmp_path).error is None
    for kind in KINDS:
        tables = dataexchange.get_kind(kind).changed_tables
        assert tables, f"{kind} names no tables it changes"
        with connection.cursor() as cursor:  # stale statistics, as after an earlier import
            for table in tables:
                cursor.execute("UPDATE pg_class SET reltuples = 1 WHERE oid = %s::regclass", [table])
        result = run("import_data", kind, tmp_path / f"{kind}.csv")
        assert result.error is None, result.error
        for table, (reltuples, rows) in estimates(tables).items():
            assert rows > 1, table
            assert reltuples == rows, f"{kind}: {table} holds {rows} rows, statistics say {reltuples}"
