"""`--bulk` (PostgreSQL only): keys and indexes rebuilt once after the load, and what it locks."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager


@contextmanager
def secondary_indexes_dropped(connection, table: str):
    """PostgreSQL bulk load: drop the table's unique, exclusion, foreign-key and secondary indexes,
    recreate them after.

    Maintaining five indexes row by row, and checking two foreign keys row by row at commit,
    costs several times the insert itself; building each index once from sorted data and
    validating each foreign key with one join is what PostgreSQL's "Populating a Database" advice
    amounts to. Everything happens in the caller's transaction: a failure (say a duplicate key
    when the unique constraint is rebuilt) rolls it all back. The table is locked exclusively
    until the transaction ends. The primary key and check constraints stay.
    """
    with connection.cursor() as cursor:
        # Deferred checks still pending on a referenced table forbid ALTER TABLE: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            """SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = %s::regclass AND contype IN ('u', 'f', 'x')
               ORDER BY contype DESC, conname""",
            [table],
        )
        # Exclusion and unique ones first (x > u > f): rebuilt before the foreign keys. An exclusion
        # constraint (the roster's no-overlap rule) is a GiST index: built once from the loaded
        # rows, not entry by entry; the importer's own overlap check has run before the load.
        constraints = cursor.fetchall()
        cursor.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
               ORDER BY i.relname""",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _kind, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, _kind, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in indexes:
            cursor.execute(definition)


LOCK_ALL = "讀寫皆須等待"
LOCK_WRITES = "寫入須等待"


def bulk_locks(connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(table, what waits) for each table a --bulk import locks until it commits (PostgreSQL).

    Dropping a table's indexes and keys locks it exclusively; dropping and re-adding its foreign
    keys locks the tables they point at against writes.
    """
    locks = [(table, LOCK_ALL) for table in tables]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                """SELECT DISTINCT confrelid::regclass::text FROM pg_constraint
                   WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1""",
                [table],
            )
            for (referenced,) in cursor.fetchall():
                if referenced not in tables and (referenced, LOCK_WRITES) not in locks:
                    locks.append((referenced, LOCK_WRITES))
    return locks
