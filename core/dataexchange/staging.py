"""Staging tables and set-based checks: COPY on PostgreSQL (psycopg 3), batched inserts elsewhere.

The same SQL validates and merges on both back ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from core.dataexchange.errors import ErrorList


def is_postgresql(connection) -> bool:
    return connection.vendor == "postgresql"


class Staging:
    """A temporary table filled row by row: COPY on PostgreSQL, batched inserts elsewhere.

    Rows are tuples of strings already valid for their column type; `null` is the value to pass
    for SQL NULL. Text values must not hold tab, newline or backslash unless escaped with
    `text()`. Call inside the import's transaction: the table disappears with a rollback, and
    `drop()` removes it after a successful merge.
    """

    BATCH = 5000

    def __init__(self, connection, name: str, columns: Sequence[tuple[str, str]]):
        self.connection = connection
        self.name = name
        self.columns = list(columns)
        self.pg = is_postgresql(connection)
        self.null = "\\N" if self.pg else None
        self.count = 0

    def text(self, value: str) -> str:
        """Escape a free-text value for the COPY text format; as it is for batched inserts."""
        if not self.pg:
            return value
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value

    def create(self) -> Staging:
        column_sql = ", ".join(f"{name} {sqltype}" for name, sqltype in self.columns)
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {self.name} ({column_sql})")
        return self

    @contextmanager
    def writer(self):
        """Yields `add(row)`; rows reach the database as they come, in bounded batches."""
        names = ", ".join(name for name, _ in self.columns)
        if self.pg:
            with self.connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(f"COPY {self.name} ({names}) FROM STDIN") as copy:
                    buffer: list[str] = []
                    join = "\t".join

                    def add(row: tuple) -> None:
                        buffer.append(join(row))
                        if len(buffer) >= self.BATCH * 4:
                            buffer.append("")
                            copy.write("\n".join(buffer))
                            self.count += len(buffer) - 1
                            buffer.clear()

                    yield add
                    if buffer:
                        buffer.append("")
                        copy.write("\n".join(buffer))
                        self.count += len(buffer) - 1
            with self.connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {self.name}")
        else:
            placeholders = ", ".join(["%s"] * len(self.columns))
            sql = f"INSERT INTO {self.name} ({names}) VALUES ({placeholders})"
            with self.connection.cursor() as cursor:
                batch: list[tuple] = []

                def add(row: tuple) -> None:
                    batch.append(row)
                    if len(batch) >= self.BATCH:
                        cursor.executemany(sql, batch)
                        self.count += len(batch)
                        batch.clear()

                yield add
                if batch:
                    cursor.executemany(sql, batch)
                    self.count += len(batch)

    def drop(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")


def collect(connection, errors: ErrorList, sql: str, params: Sequence = (), reason=None) -> None:
    """Run a check query returning (line_no, *args) and add one error per row.

    `reason` is a message template formatted with the extra columns as {0}, {1}…, or a callable.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            chunk = cursor.fetchmany(2000)
            if not chunk:
                break
            for line, *args in chunk:
                errors.add(line, reason(*args) if callable(reason) else reason.format(*args))


def tune_session(connection) -> None:
    """Per-transaction settings for a large merge on PostgreSQL (no effect elsewhere)."""
    if not is_postgresql(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")


def analyse(connection, tables: Sequence[str]) -> None:
    """Fresh planner statistics for tables an import has just filled (PostgreSQL only).

    Autovacuum may be off or late: without them the planner guesses a few hundred rows for a
    table that now holds 200,000 and picks nested loops of index probes where one hash join
    would do (the reward job's join to the teacher plans was 3 s of index probes).
    """
    if not is_postgresql(connection):
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
