"""The participant list as .xlsx: the organiser's sign-in sheet and, filled in, the attendance file.

SPEC §5 and §9: it names each enrolment by its random 報名序號, never by national ID (a course
takes teachers of every unit). Full names and the serving school are there because the
organiser's sign-in sheet needs them. The first sheet's header is row 1, so that the same file,
with 研習時數 filled in, uploads back as attendance (courses.services.ATTENDANCE_HEADERS).
Written through the one export path (core.exports).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from core.exports import Column, Kind, Table
from core.roc import format_roc_date, format_roc_datetime
from courses import selectors

COL_NUMBER = "報名序號"
COL_HOURS = "研習時數"
COLUMNS = (
    Column(COL_NUMBER),
    Column("姓名"),
    Column("服務學校"),
    Column("報名狀態"),
    Column("報名時間"),
    Column(COL_HOURS, Kind.DECIMAL),
)
HEADER = tuple(column.title for column in COLUMNS)
SHEET_TITLE = "報名名單"
NOTES_TITLE = "說明"


def _participant_rows(course) -> Iterator[tuple]:
    """Every enrolment still in play, in queue order; the hours column holds what was uploaded."""
    for enrolment, school in selectors.participants_with_school(course):
        yield (
            enrolment.number,
            enrolment.person.name,
            school,
            enrolment.get_status_display(),
            format_roc_datetime(timezone.localtime(enrolment.applied_at)),
            enrolment.attended_hours,
        )


def _notes(course) -> list[tuple]:
    dates = format_roc_date(course.start_date) if course.start_date else ""
    if course.end_date and course.end_date != course.start_date:
        dates = f"{dates}～{format_roc_date(course.end_date)}"
    return [
        (f"{course.code or ''} {course.title}".strip(),),
        ("上課日期", dates),
        ("研習時數", course.hours),
        (
            f"填寫「{SHEET_TITLE}」工作表的「{COL_HOURS}」欄（0 至課程研習時數，最多一位小數；"
            "空白以 0 計），存檔後於「上傳出席資料」上傳；請勿修改「報名序號」。",
        ),
    ]


def participant_tables(course) -> list[Table]:
    """The sign-in sheet, then a notes sheet (free lines) on how to fill it in."""
    return [Table(SHEET_TITLE, COLUMNS, _participant_rows(course)), Table(NOTES_TITLE, (), _notes(course))]


def participants_filename(course) -> str:
    return f"participants-{course.code or course.pk}.xlsx"
