"""資料下載: a unit's current roster as .xlsx, one openpyxl write-only pass (flat memory).

Its columns are those 批次上傳 reads back (teachers.batch.DOWNLOAD_COLUMNS): a school downloads,
edits in a spreadsheet and uploads the same file. Every value is a text cell (a name starting
with = stays a name, a code keeps its zeros); dates in the ROC calendar.
"""

from __future__ import annotations

from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from accounts import national_id
from core.roc import format_roc_date
from teachers import selectors
from teachers.batch import DOWNLOAD_COLUMNS
from teachers.models import AccountStatus

STATUS_LABELS = dict(AccountStatus.choices)


def _texts(sheet, values) -> list:
    """Every value a text cell: openpyxl stores a str as text, except one starting with =, which
    it would take for a formula (such a value alone pays for a cell object)."""
    return [_text_cell(sheet, value) if value[:1] == "=" else value for value in values]


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


def write_roster_xlsx(unit, handle: BinaryIO) -> int:
    """Write the unit's roster to `handle`; returns the number of people written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="教師名單")
    sheet.append(_texts(sheet, DOWNLOAD_COLUMNS))
    count = 0
    labels = {status: str(label) for status, label in STATUS_LABELS.items()}  # translated once
    pending = labels[AccountStatus.PENDING]
    for (
        encrypted,
        name,
        category,
        title,
        status,
        username,
        email,
        start,
        _pk,
        subjects,
    ) in selectors.download_rows(unit):
        sheet.append(
            _texts(
                sheet,
                (
                    national_id.reveal(encrypted, to=national_id.ROSTER_DOWNLOAD),
                    name,
                    category,
                    title,
                    "、".join(subjects),
                    labels[status] if status else pending,
                    username or "",
                    email,
                    format_roc_date(start),
                    "",  # 離職日期: filled in to end the membership on upload
                    "",  # 異動原因
                ),
            )
        )
        count += 1
    workbook.save(handle)
    return count


def write_template_xlsx(handle: BinaryIO) -> None:
    """批次上傳's template: the download's columns and no row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="教師名單")
    sheet.append(_texts(sheet, DOWNLOAD_COLUMNS))
    workbook.save(handle)
