"""Row-local field checks (cached by the caller where values repeat): dates, decimals, codes.

Checks follow core.validation: a value or a `Problem`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from core.validation import MSG_REQUIRED, Problem

MSG_BAD_DATE = "{column} 日期格式不正確（應為 YYYY-MM-DD）"
MSG_END_BEFORE_START = "end_date 早於 start_date"

ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
