"""資料下載: a unit's current roster as .xlsx, through the one export path (core.exports).

Its columns are those 批次上傳 reads back (teachers.batch.DOWNLOAD_COLUMNS): a school downloads,
edits in a spreadsheet and uploads the same file. Every value is text (a name starting with =
stays a name, a code keeps its zeros); dates in the ROC calendar. The national IDs are there
because the school keys its roster on them (accounts.national_id, SPEC §9).
"""

from __future__ import annotations

from collections.abc import Iterator

from accounts import national_id
from core.exports import Column, Table
from core.roc import format_roc_date
from teachers import selectors
from teachers.batch import DOWNLOAD_COLUMNS
from teachers.models import AccountStatus

SHEET_TITLE = "教師名單"
COLUMNS = tuple(Column(title) for title in DOWNLOAD_COLUMNS)


def _roster_rows(unit) -> Iterator[tuple]:
    labels = {status: str(label) for status, label in AccountStatus.choices}  # translated once
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
        yield (
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
        )


def roster_table(unit) -> Table:
    """The unit's whole current roster, streamed from the database."""
    return Table(SHEET_TITLE, COLUMNS, _roster_rows(unit))


def template_table() -> Table:
    """批次上傳's template: the download's columns and no row."""
    return Table(SHEET_TITLE, COLUMNS, ())
