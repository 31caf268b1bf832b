"""Reading an exchange file: a streamed .csv or every sheet of an .xlsx, row by row, header mapped.

A file-level problem (encoding, header, size, type) refuses the file at once; a row's problem is
added to the run's ErrorList and reading goes on, so that every bad row is listed.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import openpyxl
from django.conf import settings

from core.dataexchange.cells import FORMULA_ESCAPED_RE, cell_text
from core.dataexchange.errors import SHEET_SPAN, ErrorList, ImportRefused

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
MSG_SHEET_SKIPPED = "略過第 {sheet} 個工作表「{title}」：第一列沒有任何匯入欄位名稱"

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
        with self._open() as raw:
            self._check_xlsx_sizes(raw)
            try:
                workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
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
    return getattr(settings, "DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES", XLSX_MAX_INFLATED_BYTES)
