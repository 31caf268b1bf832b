"""One import's state and its result: errors, notices, phase timings, temporary tables."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from core.dataexchange.errors import ErrorList, refuse_if
from core.dataexchange.staging import Staging, collect, is_postgresql


@dataclass
class ImportResult:
    """What an import did: counts by name (labelled in zh-Hant by its kind), notices, timings."""

    kind: str
    counts: dict[str, int]
    labels: dict[str, str]
    notices: list[str] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    bulk: bool = False

    def summary(self) -> str:
        """新增人員 3、新增服務紀錄 4、更新服務紀錄 0: what a user reads."""
        return "、".join(f"{self.labels.get(name, name)} {count}" for name, count in self.counts.items())

    def as_dict(self) -> dict:
        """JSON-ready, for a Celery task's return value."""
        return {
            "kind": self.kind,
            "counts": dict(self.counts),
            "summary": self.summary(),
            "notices": list(self.notices),
            "phases": [[name, round(seconds, 3)] for name, seconds in self.phases],
            "seconds": round(self.seconds, 3),
            "bulk": self.bulk,
        }


class ImportRun:
    """The state of one import, passed to the kind's importer; nothing outlives it.

    It owns every temporary table the import creates (named `import_<kind>_<purpose>`), and
    `drop_tables()` is the one place they are dropped, whatever way the import ends.
    """

    def __init__(self, kind: str, connection, *, bulk: bool = False, unit_id: int | None = None):
        self.kind = kind
        self.connection = connection
        self.bulk = bulk
        # The unit a school's upload speaks for (None: the operator's national import); a kind
        # that serves both reads it to limit what the file may change.
        self.unit_id = unit_id
        self.pg = is_postgresql(connection)
        self.errors = ErrorList()
        self.notices: list[str] = []
        self.phases: list[tuple[str, float]] = []
        self._tables: list[str] = []
        self._views: list[str] = []

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases.append((name, time.perf_counter() - started))

    def table_name(self, purpose: str) -> str:
        name = f"import_{self.kind}_{purpose}"
        if name not in self._tables:
            self._tables.append(name)
        return name

    def staging(self, purpose: str, columns: Sequence[tuple[str, str]]) -> Staging:
        """A new staging table, filled by its writer()."""
        return Staging(self.connection, self.table_name(purpose), columns).create()

    def create_table_as(self, purpose: str, select: str, params: Sequence = ()) -> str:
        """A temporary table holding a query's rows; returns its name."""
        name = self.table_name(purpose)
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {name} AS {select}", params)
            if self.pg:
                cursor.execute(f"ANALYZE {name}")
        return name

    def create_view(self, purpose: str, select: str) -> str:
        """A temporary view (a query over staging tables, named like them); returns its name."""
        name = f"import_{self.kind}_{purpose}"
        if name not in self._views:
            self._views.append(name)
        with self.connection.cursor() as cursor:
            cursor.execute(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {select}")
        return name

    def collect(self, sql: str, params: Sequence = (), reason=None) -> None:
        collect(self.connection, self.errors, sql, params, reason)

    def refuse_if_errors(self) -> None:
        refuse_if(self.errors)

    def drop_tables(self) -> None:
        with self.connection.cursor() as cursor:
            for name in reversed(self._views):
                cursor.execute(f"DROP VIEW IF EXISTS {name}")
            for name in reversed(self._tables):
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
        self._tables.clear()
        self._views.clear()
