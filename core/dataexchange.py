"""Shared machinery of the SPEC §8 data exchange: reading, checking, staging, writing, running.

Pure plumbing with no import from any app (like `core.roc`). Each kind lives in the app that
owns its tables and registers itself here from its AppConfig.ready() (`register(Kind(...))`):
`accounts.importers` (units), `teachers.importers` (roster), `courses.importers` (hours),
`planning.importers` (plans). The commands, the seeder, a Celery task or a web upload find the
kinds through `kinds()` / `get_kind()` and run them through `import_file()` / `export_file()`.

The contract of an import: the file is streamed (never read whole), every row is validated,
row-local checks in Python (with caches, since national IDs, dates and hour values repeat) and
cross-row and database checks as set-based SQL over a staging table; if any row is bad nothing is
written and every bad row is reported by its line number. On PostgreSQL the staging table is
filled with `COPY` (psycopg 3); elsewhere with batched inserts. The same SQL validates and merges
on both back ends. Everything one import knows lives in its `ImportRun` (errors, notices, phase
timings, temporary tables) and comes back as an `ImportResult`: no module-level state.

Checks follow core.validation: a value or a `Problem`; a row's problems are a list.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import heapq
import io
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.hooks import Hook
from core.validation import MSG_REQUIRED, Problem

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
MSG_XLSX_TOO_LARGE = ".xlsx 檔案解壓縮後過大或壓縮比異常（上限 {limit} MB），請改用 .csv 或分成數個檔案"
MSG_EMPTY_FILE = "檔案是空的，缺少標題列"
MSG_FILE_NOT_FOUND = "找不到檔案 {path}"
MSG_TOO_MANY_ROWS = "檔案超過 {limit:,} 列資料的上限，請分成數個檔案上傳"
MSG_REFUSED = "匯入失敗：共 {count} 筆錯誤，未寫入任何資料。"
MSG_MORE_ERRORS = "……另有 {count} 筆錯誤未列出"

MSG_BAD_DATE = "{column} 日期格式不正確（應為 YYYY-MM-DD）"
MSG_END_BEFORE_START = "end_date 早於 start_date"

ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# A CSV cell a spreadsheet would run as a formula starts with one of these; TableWriter writes
# such a cell with a leading apostrophe (and one more before a cell that already looks escaped),
# and Table.unescape takes exactly one away again, so an exported file imports back unchanged.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
FORMULA_RE = re.compile(r"^'*[=+\-@\t\r]")
FORMULA_ESCAPED_RE = re.compile(r"^'+[=+\-@\t\r]")

# An .xlsx sheet may not inflate past this (the setting DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES
# overrides it; a full sheet of 1,048,576 exported hours rows is about 400 MB), any other member
# (shared strings, held whole by openpyxl) past an eighth of it, nor a member past
# XLSX_RATIO_FLOOR inflate more than XLSX_MAX_RATIO times its compressed size: a sheet of the
# portal's export inflates about 15 times.
XLSX_MAX_INFLATED_BYTES = 512 * 1024 * 1024
XLSX_MAX_RATIO = 100
XLSX_RATIO_FLOOR = 1024 * 1024
# What a damaged .xlsx raises while opened or read (malformed XML is a SyntaxError; defusedxml's
# refusals of entities are ValueErrors).
XLSX_ERRORS = (OSError, KeyError, ValueError, TypeError, IndexError, AttributeError, SyntaxError, EOFError)

# Excel's limit of one sheet, header included; a longer export continues on further sheets.
XLSX_SHEET_ROWS = 1_048_576
# A row's position in a file is one integer (the staging tables' line_no): the spreadsheet's
# line number, plus SHEET_SPAN for each sheet before its own. `at()` turns it back into words.
SHEET_SPAN = 10_000_000


# Codes are text. A spreadsheet that opened a CSV (or typed an .xlsx cell as a number) saves
# 09007 as 9007: such a code is refused with the likely cause rather than taken as a new one.
MSG_LOST_ZEROS = (
    "{column} {code} 與既有代碼 {known} 只差開頭的 0：檔案可能經 Excel 或 LibreOffice 開啟後存檔，"
    "代碼被當成數字而去掉開頭的 0。請把代碼欄設為文字、補回開頭的 0（或改用系統匯出的原檔）後再匯入"
)


class LeadingZeros:
    """Known codes that start with 0, looked up by what a spreadsheet makes of them (0 stripped)."""

    def __init__(self, codes):
        self._known: dict[str, str] = {}
        for code in codes:
            stripped = code.lstrip("0")
            if stripped != code and stripped:
                self._known.setdefault(stripped, code)

    def known(self, code: str) -> str | None:
        """The known code `code` is a zero-stripped copy of, or None."""
        if not code or code[0] == "0":
            return None
        return self._known.get(code)

    def problem(self, column: str, code: str) -> Problem | None:
        known = self.known(code)
        return Problem(MSG_LOST_ZEROS.format(column=column, code=code, known=known)) if known else None


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

    def add(self, line: int, reason) -> None:
        """`reason`: a message or a core.validation.Problem."""
        reason = str(reason)
        self.total += 1
        self._seq += 1
        item = (-line, -self._seq, reason)
        if len(self._heap) < self.cap:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def add_all(self, line: int, problems) -> None:
        for problem in problems:
            self.add(line, problem)

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
    """The file is refused whole; nothing was written. `messages` are the lines to show."""

    def __init__(self, errors: ErrorList):
        super().__init__(MSG_REFUSED.format(count=errors.total))
        self.errors = errors

    @property
    def messages(self) -> list[str]:
        return self.errors.lines()


def refuse_if(errors: ErrorList) -> None:
    if errors:
        raise ImportRefused(errors)


MSG_SHEET_SKIPPED = "略過第 {sheet} 個工作表「{title}」：第一列沒有任何匯入欄位名稱"


# --------------------------------------------------------------------------------------------
# Reading


class Table:
    """An open input file: `rows` yields (line number, values in the kind's column order).

    Line numbers are those a spreadsheet shows: the header is line 1. Blank rows are skipped
    but counted. A file-level problem (encoding, header) raises ImportRefused.
    """

    def __init__(
        self,
        source,
        columns: Sequence[str],
        *,
        errors: ErrorList | None = None,
        notices: list[str] | None = None,
        optional_columns: Sequence[str] = (),
        max_rows: int | None = None,
    ):
        # A path, or an open binary file with a name (a web upload): the name gives the type.
        # max_rows: a web upload's bound (the national imports of import_data have none); past
        # it the file is refused at once, before any more of it is read.
        if max_rows is not None:
            self.max_rows = max_rows
        if isinstance(source, (str, Path)):
            self.path, self.file = Path(source), None
        else:
            self.path, self.file = Path(getattr(source, "name", "") or "upload"), source
        self.columns = tuple(columns)
        self.optional_columns = tuple(optional_columns)
        # The optional columns this file's header names: their values follow the kind's columns.
        self.optional_present: tuple[str, ...] = ()
        self.errors = ErrorList() if errors is None else errors
        self.notices = [] if notices is None else notices
        self.is_csv = self.path.suffix.lower() == ".csv"

    def unescape(self, value: str) -> str:
        """A text cell as it was before export: undoes TableWriter's formula guard (CSV only)."""
        if self.is_csv and value[:1] == "'" and FORMULA_ESCAPED_RE.match(value):
            return value[1:]
        return value

    @contextmanager
    def _open(self):
        if self.file is None:
            with open(self.path, "rb") as raw:
                yield raw
        else:
            self.file.seek(0)
            yield self.file

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
        self.optional_present = tuple(c for c in self.optional_columns if c in seen)
        return [header.index(c) for c in self.columns + self.optional_present]

    max_rows: int | None = None
    over_max_rows = False

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.max_rows is None:
            yield from self._all_rows()
            return
        for count, row in enumerate(self._all_rows(), start=1):
            if count > self.max_rows:
                self.over_max_rows = True
                self.errors.add(0, MSG_TOO_MANY_ROWS.format(limit=self.max_rows))
                raise ImportRefused(self.errors)
            yield row

    def _all_rows(self) -> Iterator[tuple[int, list[str]]]:
        suffix = self.path.suffix.lower()
        if self.file is None and not self.path.exists():
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
        with self._open() as raw:
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
                raw.seek(0)
                self.errors.add(_first_undecodable_line(raw), MSG_ENCODING)
                raise ImportRefused(self.errors) from None
            except csv.Error:
                self.errors.add(line + 1, MSG_CSV_FORMAT)
                raise ImportRefused(self.errors) from None
            finally:
                if self.file is not None:
                    text.detach()  # the caller's file stays open

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every sheet in turn: an export over Excel's row limit continues on further sheets.

        The first sheet sets the columns. A later sheet is read when its header names them all;
        one whose first row names none of them (say a sheet of notes) is skipped, and one that
        names only some is an error rather than a silent loss of rows.
        """
        from openpyxl import load_workbook

        with self._open() as raw:
            self._check_xlsx_sizes(raw)
            try:
                workbook = load_workbook(raw, read_only=True, data_only=True)
            except XLSX_ERRORS:
                self.errors.add(0, MSG_XLSX_BROKEN)
                raise ImportRefused(self.errors) from None
            try:
                yield from self._xlsx_sheets(workbook)
            except XLSX_ERRORS:
                # Malformed sheet XML shows only as the rows are read.
                self.errors.add(0, MSG_XLSX_BROKEN)
                raise ImportRefused(self.errors) from None
            finally:
                workbook.close()

    def _check_xlsx_sizes(self, raw) -> None:
        """Refuse a zip bomb before openpyxl inflates it: read-only openpyxl still holds the
        shared strings whole, so an 875 KB file can take half a gigabyte. Every member's stated
        size and its compression ratio are checked from the zip directory, which costs nothing."""
        import zipfile

        limit = xlsx_limit()
        try:
            members = zipfile.ZipFile(raw).infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            self.errors.add(0, MSG_XLSX_BROKEN)
            raise ImportRefused(self.errors) from None
        finally:
            raw.seek(0)
        # zipfile stops inflating a member at its stated size (and then fails its CRC), so the
        # directory's figures bound what openpyxl can be made to hold. Sheets are streamed; the
        # other members (shared strings above all) are held whole, so they get an eighth.
        for member in members:
            own_limit = limit if member.filename.startswith("xl/worksheets/") else limit // 8
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > own_limit or (
                member.file_size > XLSX_RATIO_FLOOR and ratio > XLSX_MAX_RATIO
            ):
                self.errors.add(0, MSG_XLSX_TOO_LARGE.format(limit=own_limit // (1024 * 1024)))
                raise ImportRefused(self.errors)

    def _xlsx_sheets(self, workbook) -> Iterator[tuple[int, list[str]]]:
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
                        self.notices.append(MSG_SHEET_SKIPPED.format(sheet=number + 1, title=sheet.title))
                    continue
                if not names >= set(self.columns):
                    self.errors.add(offset + 1, MSG_SHEET_HEADER.format(sheet=number + 1))
                    raise ImportRefused(self.errors)
                index = self._map_header([cell_text(v) for v in header], offset + 1)
            yield from self._sheet_rows(rows, index, offset)

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


def _first_undecodable_line(raw) -> int:
    """Error path only: the physical line where UTF-8 decoding first fails."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for number, chunk in enumerate(raw, start=1):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            return number
    return 1


def xlsx_limit() -> int:
    """Bytes an .xlsx may hold once inflated (settings.DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES)."""
    from django.conf import settings

    return getattr(settings, "DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES", XLSX_MAX_INFLATED_BYTES)


# --------------------------------------------------------------------------------------------
# Field parsing (row-local, cached by the caller where values repeat)


def check_date(value: str, column: str, *, required: bool = True) -> dt.date | None | Problem:
    """A stripped YYYY-MM-DD value as a date (None when blank and optional), or the problem."""
    if not value:
        return Problem(MSG_REQUIRED.format(column=column)) if required else None
    day = parse_date(value)
    return day if day is not None else Problem(MSG_BAD_DATE.format(column=column))


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


# --------------------------------------------------------------------------------------------
# Writing


def escape_formula(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: '=1+2 rather than the formula's result."""
    return "'" + value if FORMULA_RE.match(value) else value


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
        self._csv.writerow([escape_formula(v) if v[:1] in FORMULA_START else v for v in row])
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


# --------------------------------------------------------------------------------------------
# One import: its errors, notices, timings, temporary tables and result


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

    def collect(self, sql: str, params: Sequence = (), reason=None) -> None:
        collect(self.connection, self.errors, sql, params, reason)

    def refuse_if_errors(self) -> None:
        refuse_if(self.errors)

    def drop_tables(self) -> None:
        with self.connection.cursor() as cursor:
            for name in reversed(self._tables):
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
        self._tables.clear()


# --------------------------------------------------------------------------------------------
# The registry of SPEC §8 kinds: each app registers the kinds of its tables in AppConfig.ready()


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


MSG_DATABASE_REFUSED = "資料庫拒絕寫入（{error}），未寫入任何資料。請將檔案與時間告知系統管理者。"
MSG_BULK_NEEDS_POSTGRESQL = "--bulk 只適用於 PostgreSQL"


def import_file(kind: str, source, *, bulk: bool = False, unit_id: int | None = None) -> ImportResult:
    """Import a file of one kind, all or nothing: from a command, a Celery task or a web upload.

    `source` is a path or an open binary file with a name ending .csv or .xlsx (a Django upload).
    Returns the ImportResult; raises ImportRefused, whose `messages` list every bad row, when the
    file is refused (nothing written). `bulk` (PostgreSQL only) rebuilds the keys and indexes of
    the kind's `bulk_tables` once instead of row by row, locking them until the import commits:
    for a first national load, at the operator's explicit request only. `unit_id` is the unit a
    school's own upload speaks for (ImportRun.unit_id).
    """
    import logging

    from django.db import DataError, IntegrityError, connection, transaction

    spec = get_kind(kind)
    if bulk and not is_postgresql(connection):
        raise ValueError(MSG_BULK_NEEDS_POSTGRESQL)
    run = ImportRun(spec.name, connection, bulk=bulk, unit_id=unit_id)
    table = Table(
        source, spec.columns, errors=run.errors, notices=run.notices, optional_columns=spec.optional_columns
    )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            tune_session(connection)
            counts = spec.import_rows(run, table)
            run.refuse_if_errors()
    except (IntegrityError, DataError) as exc:
        # A case the checks did not foresee; the database's own message is not shown, since it
        # may quote the offending values (national IDs).
        logging.getLogger(__name__).exception("import of %s refused by the database", spec.name)
        errors = ErrorList()
        errors.add(0, MSG_DATABASE_REFUSED.format(error=type(exc).__name__))
        raise ImportRefused(errors) from None
    finally:
        run.drop_tables()
    if any(count for name, count in counts.items() if "unchanged" not in name):
        analyse(connection, spec.changed_tables)
    return ImportResult(
        kind=spec.name,
        counts=counts,
        labels=spec.count_labels,
        notices=run.notices,
        phases=run.phases,
        seconds=time.perf_counter() - started,
        bulk=bulk,
    )


def export_file(kind: str, path) -> int:
    """Write every record of a kind to .csv or .xlsx in its import format; returns the row count."""
    return get_kind(kind).export(Path(path))


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
