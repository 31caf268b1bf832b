"""The registry of SPEC §8 kinds: each app registers the kinds of its tables in AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.dataexchange.reading import Table
from core.dataexchange.run import ImportRun
from core.hooks import Hook


@dataclass(frozen=True)
class Kind:
    """One SPEC §8 kind: its columns, its importer and exporter, the labels of its counts."""

    name: str
    label: str  # zh-Hant, e.g. 人員名冊
    columns: tuple[str, ...]
    import_rows: Callable[[ImportRun, Table], dict[str, int]]
    export: Callable[[Path], int]
    count_labels: dict[str, str]
    order: int  # import order: a kind refers only to kinds of a lower order
    bulk_tables: tuple[str, ...] = ()  # tables whose keys and indexes `--bulk` rebuilds
    optional_columns: tuple[str, ...] = ()  # read when the header names them (SPEC §8 roster end_reason)
    changed_tables: tuple[str, ...] = ()  # tables the import writes: ANALYZE'd once it has written them


# Each app registers the SPEC §8 kinds it owns from its AppConfig.ready() (core.hooks); required:
# the import and export commands fail loudly when no app registered any.
KINDS = Hook("core.dataexchange.kinds", many=True, required=True)


def register(kind: Kind) -> None:
    KINDS.register(kind, key=kind.name)


def kinds() -> list[Kind]:
    """Every registered kind, in import order."""
    return sorted(KINDS.values(), key=lambda k: k.order)


def get_kind(name: str) -> Kind:
    try:
        return KINDS.items()[name]
    except KeyError:
        raise LookupError(f"no data-exchange kind {name!r}") from None
