"""A .csv COPYed straight into a staging table of text columns (PostgreSQL): no Python per row.

For a national file of millions of rows the per-row Python loop (read, check, stage) costs
several times the COPY itself. A kind that can check its rows as set-based SQL (each distinct
value checked once, in Python, with the same functions as the row-by-row path) loads the file
with `copy_csv()` instead of `Table.rows()`, and gets None back whenever the file is not one
whose rows PostgreSQL's CSV parser and Python's csv module are sure to read alike; the kind then
reads it row by row as before, so every message stays what `Table.rows()` would have said.

The file is read as it is: a header the kind's columns map (refused as `Table` refuses it), then
one record per physical line, each of the header's width. Anything else falls back: a blank
line or a row of another width (COPY refuses them), bytes that are not UTF-8 or a NUL (COPY
refuses them), a quoted field over several lines or a quote inside an unquoted field (checked
per line here, since the two parsers differ there), or a `\\.` line (COPY would stop there
without a word: the loaded rows must be the file's lines, one for one).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass

from django.db import transaction

from core.dataexchange.reading import Table

# What Python's str.strip() takes away: the same test of a blank row in SQL (btrim).
WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
# A line both parsers read alike: unquoted fields with no quote, or whole quoted fields ("" for
# a quote) that close on the same line.
_FIELD = rb'(?:[^",\r\n]*|"(?:[^"\r\n]|"")*")'
WELL_QUOTED_LINE = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*\r?")
LINE_WITH_QUOTE = re.compile(rb'[^\n]*"[^\n]*')
CHUNK = 1 << 20


class _NotCopyable(Exception):
    """The file needs the row-by-row reader; the savepoint of the COPY is rolled back."""


@dataclass
class CopiedRows:
    """A staging table of the file's rows: line_no (as Table.rows() numbers them), then c0, c1…
    the kind's columns in the kind's order, as text ('' for an empty cell), then x… columns the
    kind does not read."""

    name: str
    count: int
    columns: list[str]  # the kind's columns: c0, c1, …
    extra: list[str]  # the file's other columns

    def not_blank(self, alias: str = "") -> str:
        """SQL true for a row with some non-blank cell (Table.rows() skips the others); one
        parameter: WHITESPACE."""
        prefix = f"{alias}." if alias else ""
        cells = " || ".join(prefix + c for c in self.columns + self.extra)
        return f"btrim({cells}, %s) <> ''"


def copy_csv(run, table: Table, purpose: str = "raw") -> CopiedRows | None:
    """The file COPYed into a staging table, or None when it must be read row by row.

    A header that lacks the kind's columns refuses the file (ImportRefused), as `Table.rows()`
    would. Only a national .csv import on PostgreSQL is copied: a web upload (max_rows) keeps its
    early stop at the row limit.
    """
    if not run.pg or not table.is_csv or table.max_rows is not None or table.optional_columns:
        return None
    header = _header(table)
    if header is None:
        return None
    width, index = header
    if len(index) != len(table.columns):
        return None
    position = {file_column: kind_column for kind_column, file_column in enumerate(index)}
    names = [f"c{position[j]}" if j in position else f"x{j}" for j in range(width)]
    name = run.table_name(purpose)
    columns = ", ".join(f"{n} text" for n in names)
    try:
        with transaction.atomic(), run.connection.cursor() as wrapper:
            cursor = wrapper.cursor
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {name} "
                f"(line_no integer GENERATED ALWAYS AS IDENTITY (START WITH 2 CACHE 1000), {columns})"
            )
            listed = ", ".join(names)
            lines = 0
            with table._open() as f:
                with cursor.copy(
                    f"COPY {name} ({listed}) FROM STDIN "
                    f"(FORMAT csv, HEADER true, ENCODING 'UTF8', FORCE_NOT_NULL ({listed}))"
                ) as copy:
                    carry = b""
                    while chunk := f.read(CHUNK):
                        cut = chunk.rfind(b"\n") + 1
                        if not cut:
                            carry += chunk
                            continue
                        whole, carry = carry + chunk[:cut], chunk[cut:]
                        lines += whole.count(b"\n")
                        _check_quotes(whole)
                        copy.write(whole)
                    if carry:
                        lines += 1  # a last line without its newline
                        _check_quotes(carry)
                        copy.write(carry)
            count = cursor.rowcount
            if count < 0 or count != lines - 1:
                raise _NotCopyable
            cursor.execute(f"ANALYZE {name}")
    except _NotCopyable:
        return None
    except Exception as exc:  # COPY's refusal: its message may quote the file's values (IDs)
        if not _is_database_error(exc):
            raise
        return None
    return CopiedRows(
        name,
        count,
        [f"c{i}" for i in range(len(table.columns))],
        [n for n in names if n.startswith("x")],
    )


def _is_database_error(exc: Exception) -> bool:
    import psycopg
    from django.db import DatabaseError

    return isinstance(exc, (psycopg.Error, DatabaseError))


def _check_quotes(block: bytes) -> None:
    if b'"' not in block:
        return
    for match in LINE_WITH_QUOTE.finditer(block):
        if not WELL_QUOTED_LINE.fullmatch(match.group()):
            raise _NotCopyable


def _header(table: Table) -> tuple[int, list[int]] | None:
    """(width, the kind's column positions) from the first record, or None when it cannot be
    read here (Table.rows() then says why). A header with blank names at its end falls back."""
    if table.file is None and not table.path.exists():
        return None
    with table._open() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="strict")
        try:
            header = next(csv.reader(text), None)
        except (UnicodeDecodeError, csv.Error):
            return None
        finally:
            if table.file is not None:
                text.detach()
    if not header:
        return None
    index = table._map_header(header)
    if table.width != len(header):
        return None
    return table.width, index
