"""Downloads meant for people (not for machines): zh-Hant headers, typed cells, one number format.

A `Table` is a title, typed `Column`s and rows of Python values. In .xlsx each table is a sheet and
each value keeps its type: integers and decimals are numbers (a spreadsheet sorts and sums them),
instants are real dates in Asia/Taipei (Excel has no time zones), yes/no is 是/否. In .csv (one
table per file, UTF-8 with BOM so Excel reads it) the same values are written as the sheet shows
them. One convention for every figure: two decimals (0.00), rates as percentages with two (0.00%).
The SPEC §8 exchange files (core.dataexchange) keep their machine columns; this module is not them.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.dataexchange import FORMULA_START, escape_formula


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
    width: int = 12


@dataclass
class Table:
    title: str  # the sheet's name (at most 31 characters)
    columns: Sequence[Column]
    rows: Iterable[Sequence]


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def cell_value(column: Column, value):
    """The value as the sheet stores it (None stays an empty cell)."""
    if value is None or value == "":
        return None
    if column.kind == Kind.YES_NO:
        return YES if value else NO
    if column.kind == Kind.DATETIME:
        return _local(value)
    if column.kind == Kind.INTEGER:
        return int(value)
    if column.kind in (Kind.DECIMAL, Kind.PERCENT):
        return Decimal(value)
    return str(value)


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


def write_xlsx(path: Path | str, tables: Sequence[Table]) -> int:
    """One sheet per table, header in bold, typed cells; returns the number of data rows written."""
    workbook = Workbook(write_only=True)
    count = 0
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        for index, column in enumerate(table.columns):
            sheet.column_dimensions[get_column_letter(index + 1)].width = column.width
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, column.title)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        sheet.freeze_panes = "A2"
        for row in table.rows:
            cells = []
            for column, raw in zip(table.columns, row, strict=True):
                value = cell_value(column, raw)
                if column.kind in NUMBER_FORMATS and value is not None:
                    cell = WriteOnlyCell(sheet, value)
                    cell.number_format = NUMBER_FORMATS[column.kind]
                    cells.append(cell)
                elif isinstance(value, str) and value.startswith("="):
                    cell = WriteOnlyCell(sheet, value)
                    cell.data_type = "s"  # openpyxl would store it as a formula
                    cells.append(cell)
                else:
                    cells.append(value)
            sheet.append(cells)
            count += 1
    workbook.save(path)
    return count


def write_csv(path: Path | str, table: Table) -> int:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow([column.title for column in table.columns])
        for row in table.rows:
            out.writerow([csv_text(column, raw) for column, raw in zip(table.columns, row, strict=True)])
            count += 1
    return count
