"""Shared machinery of the SPEC §8 data exchange: reading, error collection, staging, writing.

Pure plumbing with no import from any app, so every app's `importers.py` may use it (like
`core.roc`). Each kind lives in the app that owns its tables:
`accounts.importers` (units), `teachers.importers` (roster), `courses.importers` (hours),
`planning.importers` (plans).

The contract of an import: the file is streamed (never read whole), every row is validated,
row-local checks in Python (with caches, since national IDs, dates and hour values repeat) and
cross-row and database checks as set-based SQL over a staging table; if any row is bad nothing is
written and every bad row is reported by its line number. On PostgreSQL the staging table is
filled with `COPY` (psycopg 3); elsewhere with batched inserts. The same SQL validates and merges
on both back ends.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import heapq
import io
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path

# Printing stops after this many errors; the total is always given.
MAX_PRINTED_ERRORS = 1000

# User-facing messages (Traditional Chinese); tests assert these exact strings.
MSG_LINE = "{at}：{reason}"
MSG_AT_LINE = "第 {line} 列"
MSG_AT_SHEET_LINE = "第 {sheet} 個工作表第 {line} 列"
MSG_FILE = "檔案：{reason}"  # a problem of the whole file (line 0)
MSG_MISSING_COLUMNS = "缺少欄位 {columns}"
MSG_DUPLICATE_COLUMN = "欄位 {column} 重複"
MSG_SHEET_HEADER = "第 {sheet} 個工作表的標題列與第 1 個工作表不同"
MSG_ENCODING = "檔案不是 UTF-8 編碼，請以 UTF-8 另存後再匯入"
MSG_FIELD_COUNT = "欄位數不符（應有 {expected} 欄，實有 {actual} 欄）"
MSG_CSV_FORMAT = "CSV 格式不正確"
MSG_UNSUPPORTED_FILE = "不支援的檔案類型，請使用 .csv 或 .xlsx"
MSG_XLSX_BROKEN = "無法讀取 .xlsx 檔案"
MSG_EMPTY_FILE = "檔案是空的，缺少標題列"
MSG_FILE_NOT_FOUND = "找不到檔案 {path}"
MSG_REFUSED = "匯入失敗：共 {count} 筆錯誤，未寫入任何資料。"
MSG_MORE_ERRORS = "……另有 {count} 筆錯誤未列出"

MSG_REQUIRED = "{column} 不可空白"
MSG_TOO_LONG = "{column} 超過 {limit} 字"
MSG_BAD_DATE = "{column} 日期格式不正確（應為 YYYY-MM-DD）"
MSG_END_BEFORE_START = "end_date 早於 start_date"
MSG_CONTROL_CHARACTERS = "{column} 含有控制字元（如換行、NUL），請刪除後再匯入"

ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# No one-line value holds these; PostgreSQL cannot store NUL at all, and .xlsx refuses most.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

# Excel's limit of one sheet, header included; a longer export continues on further sheets.
XLSX_SHEET_ROWS = 1_048_576
# A row's position in a file is one integer (the staging tables' line_no): the spreadsheet's
# line number, plus SHEET_SPAN for each sheet before its own. `at()` turns it back into words.
SHEET_SPAN = 10_000_000


def at(position: int) -> str:
    """Where a row is, in the words a user looks for: 第 12 列, or 第 2 個工作表第 12 列."""
    sheet, line = divmod(position, SHEET_SPAN)
    if sheet:
        return MSG_AT_SHEET_LINE.format(sheet=sheet + 1, line=line)
    return MSG_AT_LINE.format(line=line)


class ErrorList:
    """Row errors of one file: keeps the MAX_PRINTED_ERRORS lowest line numbers, counts them all."""

    def __init__(self, cap: int | None = None):
        self.cap = MAX_PRINTED_ERRORS if cap is None else cap
        self.total = 0
        self._heap: list[tuple[int, int, str]] = []  # max-heap by (line, seq) through negation
        self._seq = 0

    def add(self, line: int, reason: str) -> None:
        self.total += 1
        self._seq += 1
        item = (-line, -self._seq, reason)
        if len(self._heap) < self.cap:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def __bool__(self) -> bool:
        return self.total > 0

    def items(self) -> list[tuple[int, str]]:
        return [(-line, reason) for line, _seq, reason in sorted(self._heap, reverse=True)]

    def lines(self) -> list[str]:
        out = [
            MSG_LINE.format(at=at(line), reason=reason) if line else MSG_FILE.format(reason=reason)
            for line, reason in self.items()
        ]
        if self.total > len(out):
            out.append(MSG_MORE_ERRORS.format(count=self.total - len(out)))
        return out


class ImportRefused(Exception):
    """The file is refused whole; nothing was written."""

    def __init__(self, errors: ErrorList):
        super().__init__(MSG_REFUSED.format(count=errors.total))
        self.errors = errors


def refuse_if(errors: ErrorList) -> None:
    if errors:
        raise ImportRefused(errors)


# Wall time of each phase of the last import, for `import_data -v 2` and the benchmark.
PHASES: list[tuple[str, float]] = []
# What the last import passed over on purpose (a sheet of notes), for `import_data` to print.
NOTICES: list[str] = []
MSG_SHEET_SKIPPED = "略過第 {sheet} 個工作表「{title}」：第一列沒有任何匯入欄位名稱"


@contextmanager
def phase(name: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        PHASES.append((name, time.perf_counter() - started))


# --------------------------------------------------------------------------------------------
# Reading


class Table:
    """An open input file: `rows` yields (line number, values in the kind's column order).

    Line numbers are those a spreadsheet shows: the header is line 1. Blank rows are skipped
    but counted. A file-level problem (encoding, header) raises ImportRefused.
    """

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        self.errors = ErrorList()

    def _map_header(self, header: list[str], line: int = 1) -> list[int] | None:
        """Column positions of the kind's columns; refuses the file when the header lacks some.

        Only this header's own problems refuse here: row errors of earlier sheets wait, so that
        the whole file is still read and every bad row listed.
        """
        errors_before = self.errors.total
        header = [(h or "").strip().lstrip("\ufeff").strip().lower() for h in header]
        while header and not header[-1]:
            header.pop()
        seen: set[str] = set()
        for name in header:
            if name and name in seen:
                self.errors.add(line, MSG_DUPLICATE_COLUMN.format(column=name))
            seen.add(name)
        missing = [c for c in self.columns if c not in seen]
        if missing:
            self.errors.add(line, MSG_MISSING_COLUMNS.format(columns="、".join(missing)))
        if self.errors.total > errors_before:
            raise ImportRefused(self.errors)
        self.width = len(header)
        return [header.index(c) for c in self.columns]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        suffix = self.path.suffix.lower()
        if not self.path.exists():
            self.errors.add(0, MSG_FILE_NOT_FOUND.format(path=self.path.name))
            raise ImportRefused(self.errors)
        if suffix == ".csv":
            yield from self._csv_rows()
        elif suffix == ".xlsx":
            yield from self._xlsx_rows()
        else:
            self.errors.add(0, MSG_UNSUPPORTED_FILE)
            raise ImportRefused(self.errors)

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="strict")
            reader = csv.reader(text)
            line = 0
            try:
                header = next(reader, None)
                line = 1
                if header is None:
                    self.errors.add(1, MSG_EMPTY_FILE)
                    raise ImportRefused(self.errors)
                index = self._map_header(header)
                width = self.width
                identity = index == list(range(width))
                for row in reader:
                    line += 1
                    # Spreadsheets save padding: rows of blank cells, blank cells past the
                    # header's last column. Neither is data; anything else is a wrong count.
                    # Only a row of another width or with a blank first cell can be padding:
                    # the one test each of millions of rows pays.
                    if len(row) != width or not row[0] or row[0].isspace():
                        if not any(cell.strip() for cell in row):
                            continue
                        if len(row) != width:
                            if len(row) < width or any(cell.strip() for cell in row[width:]):
                                actual = len(row) if len(row) < width else _last_filled(row)
                                self.errors.add(line, MSG_FIELD_COUNT.format(expected=width, actual=actual))
                                continue
                            row = row[:width]
                    yield line, (row if identity else [row[i] for i in index])
            except UnicodeDecodeError:
                self.errors.add(_first_undecodable_line(self.path), MSG_ENCODING)
                raise ImportRefused(self.errors) from None
            except csv.Error:
                self.errors.add(line + 1, MSG_CSV_FORMAT)
                raise ImportRefused(self.errors) from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every sheet in turn: an export over Excel's row limit continues on further sheets.

        The first sheet sets the columns. A later sheet is read when its header names them all;
        one whose first row names none of them (say a sheet of notes) is skipped, and one that
        names only some is an error rather than a silent loss of rows.
        """
        import zipfile

        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            self.errors.add(0, MSG_XLSX_BROKEN)
            raise ImportRefused(self.errors) from None
        try:
            for number, sheet in enumerate(workbook.worksheets):
                # The size a file states may be stale (some writers never update it), and
                # read-only openpyxl would stop there without a word: read to the real end.
                sheet.reset_dimensions()
                rows = sheet.iter_rows(values_only=True)
                header = next(rows, None)
                offset = number * SHEET_SPAN
                if number == 0:
                    if header is None:
                        self.errors.add(1, MSG_EMPTY_FILE)
                        raise ImportRefused(self.errors)
                    index = self._map_header([cell_text(v) for v in header])
                else:
                    names = {cell_text(v).strip().lower() for v in header or ()}
                    if not names & set(self.columns):
                        if header is not None:
                            NOTICES.append(MSG_SHEET_SKIPPED.format(sheet=number + 1, title=sheet.title))
                        continue
                    if not names >= set(self.columns):
                        self.errors.add(offset + 1, MSG_SHEET_HEADER.format(sheet=number + 1))
                        raise ImportRefused(self.errors)
                    index = self._map_header([cell_text(v) for v in header], offset + 1)
                yield from self._sheet_rows(rows, index, offset)
        finally:
            workbook.close()

    def _sheet_rows(self, rows, index: list[int], offset: int) -> Iterator[tuple[int, list[str]]]:
        width = self.width
        for line, values in enumerate(rows, start=offset + 2):
            row = [cell_text(v) for v in values[:width]]
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            if not any(cell.strip() for cell in row):
                continue  # a row of empty (or blank) cells
            if any(cell_text(v).strip() for v in values[width:]):
                actual = max(i for i, v in enumerate(values) if cell_text(v).strip()) + 1
                self.errors.add(line, MSG_FIELD_COUNT.format(expected=width, actual=actual))
                continue
            yield line, [row[i] for i in index]


def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _last_filled(row: list[str]) -> int:
    return max(i for i, cell in enumerate(row) if cell.strip()) + 1


def _first_undecodable_line(path: Path) -> int:
    """Error path only: the physical line where UTF-8 decoding first fails."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as raw:
        for number, chunk in enumerate(raw, start=1):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return number
    return 1


# --------------------------------------------------------------------------------------------
# Field parsing (row-local, cached by the caller where values repeat)


def text_problem(column: str, value: str, limit: int | None = None, *, required: bool = True) -> str | None:
    """The row error for a stripped text value that is missing or longer than `limit`, or None."""
    if not value:
        return MSG_REQUIRED.format(column=column) if required else None
    if limit is not None and len(value) > limit:
        return MSG_TOO_LONG.format(column=column, limit=limit)
    return None


def control_characters(**values: str) -> str | None:
    """The row error for the first named value holding a control character, or None."""
    if not CONTROL_RE.search("".join(values.values())):
        return None  # the common case, in one search
    for column, value in values.items():
        if CONTROL_RE.search(value):
            return MSG_CONTROL_CHARACTERS.format(column=column)
    return None


def parse_date(value: str) -> dt.date | None:
    if not ISO_DATE_RE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# --------------------------------------------------------------------------------------------
# Staging tables


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


@contextmanager
def secondary_indexes_dropped(connection, table: str):
    """PostgreSQL bulk load: drop the table's unique, foreign-key and secondary indexes, recreate after.

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
               WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname""",
            [table],
        )
        constraints = cursor.fetchall()  # unique ones first: rebuilt before the foreign keys
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


# PostgreSQL: a file this large, and at least a quarter of the table's size, is loaded with the
# table's secondary indexes and foreign keys rebuilt once (see secondary_indexes_dropped).
BULK_MIN_ROWS = 50_000


def bulk_load_pays(connection, rows: int, table: str) -> bool:
    """Whether rebuilding `table`'s indexes once beats keeping them up to date row by row."""
    return (
        is_postgresql(connection) and rows >= BULK_MIN_ROWS and rows >= estimated_rows(connection, table) / 4
    )


def estimated_rows(connection, table: str) -> int:
    """The planner's row estimate of a table (PostgreSQL), cheap at any size."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table]
        )
        return cursor.fetchone()[0]


# --------------------------------------------------------------------------------------------
# Writing


class TableWriter:
    """Writes a header and rows to .csv (UTF-8 with BOM, so Excel reads it) or .xlsx, streaming.

    An .xlsx sheet holds at most `sheet_rows` lines (Excel's limit, header included); a longer
    export goes on in a new sheet with the header repeated, and `import_data` reads every sheet.
    """

    sheet_rows = XLSX_SHEET_ROWS

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = list(columns)
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise ValueError(MSG_UNSUPPORTED_FILE)
        self.xlsx = suffix == ".xlsx"
        self.count = 0

    def __enter__(self):
        if self.xlsx:
            from openpyxl import Workbook

            self._workbook = Workbook(write_only=True)
            self._sheets = 0
            self._new_sheet()
            self.write = self._write_xlsx
        else:
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._file, lineterminator="\n")
            self._csv.writerow(self.columns)
            self.write = self._write_csv
        return self

    def _text_cell(self, value: str):
        """A cell that stays text: openpyxl would store a value starting with = as a formula."""
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value)
        cell.data_type = "s"
        return cell

    def _new_sheet(self) -> None:
        self._sheets += 1
        self._sheet = self._workbook.create_sheet(title=f"資料{self._sheets}")
        self._sheet.append(self.columns)
        self._room = self.sheet_rows - 1

    def _write_csv(self, row: Sequence[str]) -> None:
        self._csv.writerow(row)
        self.count += 1

    def _write_xlsx(self, row: Sequence[str]) -> None:
        if not self._room:
            self._new_sheet()
        self._sheet.append([self._text_cell(v) if v.startswith("=") else v for v in row])
        self._room -= 1
        self.count += 1

    def __exit__(self, exc_type, exc, tb):
        if self.xlsx:
            if exc_type is None:
                self._workbook.save(self.path)
            else:
                self._workbook.close()
        else:
            self._file.close()
        return False
