"""The participant list as .xlsx: the organiser's sign-in sheet and, filled in, the attendance file.

SPEC §5 and §9: it names each enrolment by its random 報名序號, never by national ID (a course
takes teachers of every unit). Full names and the serving school are there because the
organiser's sign-in sheet needs them. The first sheet's header is row 1, so that the same file,
with 研習時數 filled in, uploads back as attendance (courses.services.ATTENDANCE_HEADERS).
"""

from django.utils import timezone
from openpyxl import Workbook

from core.roc import format_roc_date, format_roc_datetime
from courses import selectors

COL_NUMBER = "報名序號"
COL_HOURS = "研習時數"
HEADER = (COL_NUMBER, "姓名", "服務學校", "報名狀態", "報名時間", COL_HOURS)
SHEET_TITLE = "報名名單"
NOTES_TITLE = "說明"


def write_participants(course, out) -> int:
    """Every enrolment still in play, in queue order; the hours column holds what was uploaded."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=SHEET_TITLE)
    sheet.append(HEADER)
    count = 0
    for enrolment, school in selectors.participants_with_school(course):
        person = enrolment.person
        sheet.append(
            (
                enrolment.number,
                person.name,
                school,
                enrolment.get_status_display(),
                format_roc_datetime(timezone.localtime(enrolment.applied_at)),
                "" if enrolment.attended_hours is None else float(enrolment.attended_hours),
            )
        )
        count += 1
    notes = workbook.create_sheet(title=NOTES_TITLE)
    dates = format_roc_date(course.start_date) if course.start_date else ""
    if course.end_date and course.end_date != course.start_date:
        dates = f"{dates}～{format_roc_date(course.end_date)}"
    for line in (
        (f"{course.code or ''} {course.title}".strip(),),
        ("上課日期", dates),
        ("研習時數", float(course.hours)),
        (
            f"填寫「{SHEET_TITLE}」工作表的「{COL_HOURS}」欄（0 至課程研習時數，最多一位小數；"
            "空白以 0 計），存檔後於「上傳出席資料」上傳；請勿修改「報名序號」。",
        ),
    ):
        notes.append(line)
    workbook.save(out)
    return count
