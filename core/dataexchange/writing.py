"""Writing an exchange file: a header and rows to .csv (UTF-8 with BOM) or .xlsx, streamed."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.dataexchange.cells import FORMULA_START, escape_formula
from core.dataexchange.reading import MSG_UNSUPPORTED_FILE

# Excel's limit of one sheet, header included; a longer export continues on further sheets.
XLSX_SHEET_ROWS = 1_048_576


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
