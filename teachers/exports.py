"""資料下載: a unit's current roster as .xlsx, one openpyxl write-only pass (flat memory)."""

from __future__ import annotations

from typing import BinaryIO

from openpyxl import Workbook

from accounts import national_id
from core.roc import format_roc_date
from teachers import selectors
from teachers.models import AccountStatus

HEADER = (
    "身分證字號",
    "姓名",
    "類別",
    "職稱",
    "任教科目",
    "帳號狀況",
    "使用者帳號",
    "電子郵件",
    "到職日期",
)
STATUS_LABELS = dict(AccountStatus.choices)


def _text(value: str) -> str:
    # A cell starting with = would be a formula in Excel: keep names and titles as plain text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def write_roster_xlsx(unit, handle: BinaryIO) -> int:
    """Write the unit's roster to `handle`; returns the number of people written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="教師名單")
    sheet.append(HEADER)
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
            (
                national_id.decrypt(encrypted),
                _text(name),
                category,
                _text(title),
                "、".join(subjects),
                labels[status] if status else pending,
                username or "",
                email,
                format_roc_date(start),
            )
        )
        count += 1
    workbook.save(handle)
    return count
