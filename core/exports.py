"""The one export path: every download of the portal meant for people (issue 17 point 5).

A download is a `Table` (a title, a column spec of typed `Column`s and an iterator of rows of
Python values) and a file name. `csv_response` streams one table as CSV (UTF-8 with BOM, so Excel
reads it; CRLF lines as RFC 4180 and Excel write them) straight from the row iterator;
`xlsx_response` writes tables as the sheets of one workbook in one openpyxl write-only pass (flat
memory) and sends the file. Either way the header row is the zh-Hant column titles.

Typed cells: integers and decimals are numbers (a spreadsheet sorts and sums them), instants are
real dates in Asia/Taipei (Excel has no time zones), yes/no is 是/否; in CSV the same values are
written as the sheet shows them. One convention for every figure: two decimals (0.00), rates as
percentages with two (0.00%). Text that a spreadsheet would run as a formula stays inert text
(CWE-1236). The SPEC §8 exchange files (core.dataexchange's TableWriter) keep their machine
columns; they are not these.

A download too large for a request (the operator's national reward list) is a `StoredExport` row
plus a task: the worker writes the file under TRANSIENT_ROOT/exports/ through `write_encrypted`
(Fernet tokens, one per chunk: a file that carries national IDs is never plain on disk), the
requester alone downloads it (`stream_decrypted`), and `purge_expired_exports` (Celery beat)
deletes file and row a day after the request. A worker that died is marked 中斷 by core.reaper.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from celery import shared_task
from django.conf import settings
from django.db import models
from django.db.models import F
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as openpyxl_writer

from core import reaper, transient
from core.dataexchange import FORMULA_START, escape_formula
from core.hooks import Hook

logger = logging.getLogger(__name__)

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"  # two decimals, as the portal shows figures
    PERCENT = "percent"  # a fraction (0.6) shown as 60.00%
    DATETIME = "datetime"  # an aware instant, written as its Asia/Taipei wall-clock time
    YES_NO = "yes_no"


NUMBER_FORMATS = {
    Kind.INTEGER: "0",
    Kind.DECIMAL: "0.00",
    Kind.PERCENT: "0.00%",
    Kind.DATETIME: "yyyy-mm-dd hh:mm:ss",
}
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = Kind.TEXT
    width: int | None = None  # characters, in .xlsx; None leaves the spreadsheet's default


@dataclass
class Table:
    """One sheet (or one CSV file): the column spec and the rows, each a sequence of raw values.

    `before`: lines above the header (a title, a period), written as given. A table without
    columns is free lines (a notes sheet): no header, every value as given."""

    title: str  # the sheet's name (at most 31 characters)
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    before: Sequence[Sequence] = field(default_factory=tuple)


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def cell_value(column: Column, value):
    """The value as the sheet stores it (None and "" stay an empty cell)."""
    if value is None or value == "":
        return None
    if column.kind == Kind.YES_NO:
        return YES if value else NO
    if column.kind == Kind.DATETIME:
        return _local(value)
    if column.kind == Kind.INTEGER:
        return int(value)
    if column.kind in (Kind.DECIMAL, Kind.PERCENT):
        return _decimal(value)
    return str(value)


def _decimal(value) -> Decimal:
    """A figure as a Decimal: exact rates (Fraction) to 10 places, floats by their shortest repr."""
    if isinstance(value, Fraction):
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("1e-10"))
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def csv_text(column: Column, value) -> str:
    """The value as the sheet would show it, for a .csv."""
    value = cell_value(column, value)
    if value is None:
        return ""
    if column.kind == Kind.DECIMAL:
        return f"{value:.2f}"
    if column.kind == Kind.PERCENT:
        return f"{value * 100:.2f}%"
    if column.kind == Kind.DATETIME:
        return f"{value:%Y-%m-%d %H:%M:%S}"
    text = str(value)
    return escape_formula(text) if text[:1] in FORMULA_START else text


# ------------------------------------------------------------------------------------------
# CSV


class _Line:
    """csv.writer's file: hands back each line it is given instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table: Table) -> Iterator[str]:
    """The table as CSV text, line by line: the BOM and the header first."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([column.title for column in table.columns])
    columns = table.columns
    for row in table.rows:
        yield writer.writerow([csv_text(column, raw) for column, raw in zip(columns, row, strict=True)])


def write_csv(target: Path | str | BinaryIO, table: Table) -> int:
    """Write the table as CSV to a path or a binary handle; returns the number of data rows."""
    handle = open(target, "wb") if isinstance(target, (str, Path)) else target  # noqa: SIM115
    count = -1  # the header is not a row
    try:
        for line in csv_lines(table):
            handle.write(line.encode())
            count += 1
    finally:
        if handle is not target:
            handle.close()
    return count


def csv_response(table: Table, filename: str) -> StreamingHttpResponse:
    """A CSV download streamed from the row iterator (flat memory, first bytes at once)."""
    response = StreamingHttpResponse((line.encode() for line in csv_lines(table)), content_type=CSV_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# ------------------------------------------------------------------------------------------
# .xlsx


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # openpyxl would store a str starting with = as a formula
    return cell


def _plain(sheet, value):
    return _text_cell(sheet, value) if isinstance(value, str) and value.startswith("=") else value


def _write_sheet(workbook: Workbook, table: Table) -> int:
    sheet = workbook.create_sheet(title=table.title[:31])
    for index, column in enumerate(table.columns):
        if column.width:
            sheet.column_dimensions[get_column_letter(index + 1)].width = column.width
    for line in table.before:
        sheet.append([_plain(sheet, value) for value in line])
    count = 0
    if not table.columns:
        for line in table.rows:
            sheet.append([_plain(sheet, value) for value in line])
            count += 1
        return count
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, column.title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    if not table.before:
        sheet.freeze_panes = "A2"
    formats = [NUMBER_FORMATS.get(column.kind) for column in table.columns]
    for row in table.rows:
        cells = []
        for column, number_format, raw in zip(table.columns, formats, row, strict=True):
            value = cell_value(column, raw)
            if number_format and value is not None:
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = number_format
                cells.append(cell)
            else:
                cells.append(_plain(sheet, value))
        sheet.append(cells)
        count += 1
    return count


def write_xlsx(target: Path | str | BinaryIO, tables: Sequence[Table]) -> int:
    """One sheet per table, header in bold, typed cells, one write-only pass; returns the data rows."""
    workbook = Workbook(write_only=True)
    count = sum(_write_sheet(workbook, table) for table in tables)
    workbook.save(target)
    return count


def xlsx_response(tables: Sequence[Table], filename: str) -> FileResponse:
    """An .xlsx download: written to a temporary file (a zip is finished only at its end), then sent.

    The response's `rows` is the number of data rows written (a download that is recorded)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    rows = write_xlsx(handle, tables)
    handle.seek(0)
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    response.rows = rows
    return response


def write(target: Path | str | BinaryIO, tables: Sequence[Table], *, suffix: str) -> int:
    """.xlsx: every table a sheet; .csv: the first table."""
    if suffix == "xlsx":
        return write_xlsx(target, tables)
    return write_csv(target, tables[0])


# ------------------------------------------------------------------------------------------
# Stored exports: a status row, a task, an encrypted file, its requester alone, one day.

CHUNK_BYTES = 1 << 20  # plaintext per Fernet token: flat memory both ways


class EncryptedFile(io.RawIOBase):
    """A write-only file that stores what it is given as Fernet tokens, one line per chunk.

    `cipher` is the national-ID MultiFernet (accounts.national_id.cipher): it encrypts with the
    writer key and decrypts with any listed key, so a rotation's stages hold for these files too.
    Not seekable: openpyxl's zip writer then writes its sizes after each member."""

    def __init__(self, path: Path, cipher):
        super().__init__()
        self._cipher = cipher
        self._file = open(path, "wb")  # noqa: SIM115 (closed in close())
        self._buffer = bytearray()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) >= CHUNK_BYTES:
            self._flush_chunk(bytes(self._buffer[:CHUNK_BYTES]))
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def _flush_chunk(self, chunk: bytes) -> None:
        self._file.write(self._cipher.encrypt(chunk) + b"\n")
        self.written += len(chunk)

    def close(self) -> None:
        if not self.closed:
            if self._buffer:
                self._flush_chunk(bytes(self._buffer))
                self._buffer.clear()
            self._file.close()
        super().close()


@contextmanager
def _sheet_scratch_in(folder: Path) -> Iterator[None]:
    """openpyxl keeps each write-only sheet in a plain scratch file until the workbook is saved
    (then deletes it). For a file that carries IDs that scratch goes under TRANSIENT_ROOT (never
    backed up, purged after a day even if the worker dies mid-write), not the system's /tmp."""
    original = openpyxl_writer.create_temporary_file

    def create_temporary_file(suffix=""):
        handle, name = tempfile.mkstemp(suffix=suffix, prefix="openpyxl.", dir=folder)
        os.close(handle)
        openpyxl_writer.ALL_TEMP_FILES.append(name)
        return name

    openpyxl_writer.create_temporary_file = create_temporary_file
    try:
        yield
    finally:
        openpyxl_writer.create_temporary_file = original


def write_encrypted(path: Path, tables: Sequence[Table], *, suffix: str, cipher) -> int:
    """Write the tables (.xlsx or .csv) to `path`, encrypted as they are written; returns the rows."""
    with _sheet_scratch_in(path.parent), EncryptedFile(path, cipher) as handle:
        return write(handle, tables, suffix=suffix)


def stream_decrypted(path: Path, cipher) -> Iterator[bytes]:
    """The plaintext of an `EncryptedFile`, chunk by chunk."""
    with open(path, "rb") as handle:
        for line in handle:
            line = line.strip()
            if line:
                yield cipher.decrypt(line)


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("等待產生")
    RUNNING = "running", _("產生中")
    READY = "ready", _("可下載")
    FAILED = "failed", _("失敗")
    INTERRUPTED = "interrupted", _("中斷")


ACTIVE_EXPORT_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)
MSG_EXPORT_INTERRUPTED = _("產生檔案的工作程序已停止，檔案未完成；請重新申請下載。")
MSG_EXPORT_FAILED = _("產生檔案時發生錯誤，請重新申請下載。")


class StoredExport(models.Model):
    """A download prepared by a worker: the fields every kind shares (the app adds what it asks)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申請者"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("狀態"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    suffix = models.CharField(_("格式"), max_length=4)  # csv or xlsx
    filename = models.CharField(_("檔名"), max_length=200)
    rows_done = models.PositiveIntegerField(_("已寫入筆數"), default=0)
    rows_total = models.PositiveIntegerField(_("總筆數"), null=True, blank=True)
    created_at = models.DateTimeField(_("申請時間"), auto_now_add=True)
    started_at = models.DateTimeField(_("開始時間"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成時間"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近進度時間"), null=True, blank=True)
    error = models.TextField(_("錯誤訊息"), blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def path(self) -> Path:
        """Where the encrypted file is: TRANSIENT_ROOT/exports/<app>-<model>-<id>.bin (never backed up)."""
        return transient.folder("exports") / f"{self._meta.label_lower.replace('.', '-')}-{self.pk}.bin"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_EXPORT_STATUSES

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.READY:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + max_age()


def max_age() -> dt.timedelta:
    """A stored export lives as long as the other transient files (TRANSIENT_MAX_AGE_HOURS, a day)."""
    return dt.timedelta(hours=settings.TRANSIENT_MAX_AGE_HOURS)


def _counted(rows: Iterable, export: StoredExport, every: int) -> Iterator:
    """The rows passed through, the count written to the row now and then (the progress bar)."""
    model = type(export)
    for done, row in enumerate(rows, start=1):
        yield row
        if done % every == 0:
            model.objects.filter(pk=export.pk).update(
                rows_done=F("rows_done") + every, heartbeat_at=timezone.now()
            )


def _pause_for_tests() -> None:
    # The killed-worker test stops here, the export taken and its lock held, to kill the worker
    # mid-export. Unset in production.
    seconds = float(os.environ.get("INSERVICE_EXPORTS_PAUSE", "0") or 0)
    if seconds:
        time.sleep(seconds)


def produce(
    export: StoredExport,
    tables: Sequence[Table],
    *,
    cipher,
    lock_class: int,
    total: int | None = None,
    every: int = 5000,
) -> bool:
    """The task's body: take a queued export, write its file encrypted, mark it 可下載 (or 失敗).

    Idempotent: an export is taken once (a conditional UPDATE). The worker holds the export's
    advisory lock while it writes (core.reaper tells a dead worker by it)."""
    model = type(export)
    with reaper.held(lock_class, export.pk):
        taken = model.objects.filter(pk=export.pk, status=ExportStatus.QUEUED).update(
            status=ExportStatus.RUNNING,
            started_at=timezone.now(),
            heartbeat_at=timezone.now(),
            rows_total=total,
        )
        if not taken:
            return False
        _pause_for_tests()
        counted = [Table(t.title, t.columns, _counted(t.rows, export, every), t.before) for t in tables]
        try:
            rows = write_encrypted(export.path, counted, suffix=export.suffix, cipher=cipher)
        except Exception:
            logger.exception("export %s %s failed", model._meta.label, export.pk)
            export.path.unlink(missing_ok=True)
            model.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
                status=ExportStatus.FAILED, finished_at=timezone.now(), error=str(MSG_EXPORT_FAILED)
            )
            return False
        model.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.READY, rows_done=rows, finished_at=timezone.now()
        )
    return True


def export_response(export: StoredExport, cipher) -> StreamingHttpResponse:
    """The requester's ready file, decrypted as it is sent (the caller has checked who asks)."""
    content_type = XLSX_TYPE if export.suffix == "xlsx" else CSV_TYPE
    response = StreamingHttpResponse(stream_decrypted(export.path, cipher), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


def interrupted_values(_export: StoredExport) -> dict:
    """What the reaper writes on an export whose worker died."""
    return {
        "status": ExportStatus.INTERRUPTED,
        "finished_at": timezone.now(),
        "error": str(MSG_EXPORT_INTERRUPTED),
    }


def discard_file(export: StoredExport) -> None:
    """An interrupted export's partial file goes at once."""
    export.path.unlink(missing_ok=True)


# Every app's StoredExport models, registered from its AppConfig.ready() (the expiry walks them).
STORED_EXPORTS = Hook("core.exports.stored", many=True)


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete every stored export (row and file) older than `max_age()`; returns how many went."""
    limit = (now or timezone.now()) - max_age()
    removed = 0
    for model in STORED_EXPORTS.values():
        for export in model.objects.filter(created_at__lt=limit):
            export.path.unlink(missing_ok=True)
            export.delete()
            removed += 1
    return removed


@shared_task(name="core.exports.purge_expired_exports")
def purge_expired_exports() -> int:
    """Celery beat, hourly (settings.CELERY_BEAT_SCHEDULE): a requested file lives one day."""
    removed = purge_expired()
    if removed:
        logger.info("deleted %d expired stored export(s)", removed)
    return removed
