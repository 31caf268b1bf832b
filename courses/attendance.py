"""Reading an attendance file (資料上傳): the participant list with 研習時數 filled in (SPEC §5).

The file names each participant by 報名序號 (the participant list's first column). The old
column `national_id` (身分證字號/居留證號) stays accepted for people admitted to the course, so
that files made before the list changed still upload. Headers are accepted in zh-Hant or as the
old English names. Any bad row refuses the whole file; messages name the row and the problem,
never a national ID.
"""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from accounts import national_id
from core.dataexchange import MSG_MISSING_COLUMNS, ErrorList, ImportRefused, Table, parse_decimal
from core.validation import Problem
from courses.exports import COL_HOURS, COL_NUMBER
from courses.models import Course, EnrolmentStatus

COL_NATIONAL_ID = "national_id"
# Header text (stripped, lower-cased) → the column it means.
HEADER_ALIASES = {
    COL_NUMBER: COL_NUMBER,
    "enrolment_number": COL_NUMBER,
    COL_HOURS: COL_HOURS,
    "出席時數": COL_HOURS,
    "hours": COL_HOURS,
    COL_NATIONAL_ID: COL_NATIONAL_ID,
    "身分證字號": COL_NATIONAL_ID,
    "身分證字號或居留證號": COL_NATIONAL_ID,
}

MSG_ROW_UNKNOWN_NUMBER = "報名序號不是本課程的報名"
MSG_ROW_NOT_ADMITTED = "此報名不是本課程的錄取學員，研習時數須空白或為 0"
MSG_ROW_NOT_PARTICIPANT = "此身分證字號不是本課程的錄取學員"
MSG_ROW_NO_KEY = f"{COL_NUMBER}不可空白"
MSG_ROW_DUPLICATE = "同一人員在檔案中出現多次"
MSG_ROW_HOURS = f"{COL_HOURS}須為 0 至課程研習時數之間的數字，最多一位小數"
MSG_ROW_NONE = f"檔案沒有填寫任何{COL_HOURS}"


class AttendanceTable(Table):
    """The attendance columns: 研習時數, and 報名序號 or (the old files) national_id."""

    def __init__(self, source):
        super().__init__(
            source,
            (COL_HOURS,),
            optional_columns=(COL_NUMBER, COL_NATIONAL_ID),
            max_rows=settings.UPLOAD_MAX_ROWS,  # issue 16 point 8: a web upload's bound
        )

    def _map_header(self, header: list[str], line: int = 1) -> list[int] | None:
        names = [HEADER_ALIASES.get((h or "").strip().lstrip("\ufeff").strip().lower(), h) for h in header]
        index = super()._map_header(names, line)
        if not self.optional_present:
            self.errors.add(line, MSG_MISSING_COLUMNS.format(columns=COL_NUMBER))
            raise ImportRefused(self.errors)
        return index


def normalise_number(value: str) -> str:
    """報名序號 as typed: case, spaces and a missing hyphen do not matter."""
    text = "".join(value.split()).upper()
    if len(text) == 10 and "-" not in text:
        text = f"{text[:5]}-{text[5:]}"
    return text


def read(course: Course, path: Path, progress: Callable[[int], None]) -> tuple[dict[int, Decimal], int]:
    """{enrolment id: hours} of the admitted participants the file names, and its number of rows.

    Raises ImportRefused with every bad row when any row is wrong.
    """
    by_number = dict(course.enrolments.values_list("number", "pk"))
    status_of = dict(course.enrolments.values_list("pk", "status"))
    admitted_by_digest = {
        digest: pk
        for pk, digest in course.enrolments.filter(status=EnrolmentStatus.ADMITTED).values_list(
            "pk", "person__national_id_digest"
        )
    }
    table = AttendanceTable(path)
    errors: ErrorList = table.errors
    # Counting the rows first lets the page show a percentage; attendance files are small.
    total = max(1, sum(1 for _ in AttendanceTable(path).rows()))
    attended: dict[int, Decimal] = {}
    rows = filled = 0
    for line, values in table.rows():
        rows += 1
        raw_hours, keys = values[0].strip(), dict(zip(table.optional_present, values[1:], strict=True))
        hours = Decimal("0") if not raw_hours else parse_decimal(raw_hours)
        hours_ok = (
            hours is not None and 0 <= hours <= course.hours and hours == hours.quantize(Decimal("0.1"))
        )
        pk = _enrolment_of(keys, by_number, admitted_by_digest)
        if isinstance(pk, Problem):
            errors.add(line, pk.message)
        elif status_of[pk] != EnrolmentStatus.ADMITTED:
            # The list names the waiting and the applicants too: their rows stay blank.
            if not hours_ok or hours != 0:
                errors.add(line, MSG_ROW_NOT_ADMITTED)
        elif pk in attended:
            errors.add(line, MSG_ROW_DUPLICATE)
        elif not hours_ok:
            errors.add(line, MSG_ROW_HOURS)
        else:
            attended[pk] = hours.quantize(Decimal("0.1"))
            filled += bool(raw_hours)
        if rows % 50 == 0:
            progress(min(99, rows * 100 // total))
    if not errors and filled == 0:
        errors.add(0, MSG_ROW_NONE)
    if errors:
        raise ImportRefused(errors)
    return attended, rows


def _enrolment_of(keys: dict[str, str], by_number: dict[str, int], admitted_by_digest) -> int | Problem:
    number = normalise_number(keys.get(COL_NUMBER, ""))
    if number:
        return by_number.get(number) or Problem(MSG_ROW_UNKNOWN_NUMBER)
    raw_id = keys.get(COL_NATIONAL_ID, "")
    if COL_NATIONAL_ID in keys and raw_id.strip():
        nid = national_id.check(raw_id)
        if isinstance(nid, Problem):
            return nid
        return admitted_by_digest.get(national_id.digest(nid)) or Problem(MSG_ROW_NOT_PARTICIPANT)
    return Problem(MSG_ROW_NO_KEY)
