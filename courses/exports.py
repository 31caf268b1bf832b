"""The participant list as .xlsx: one openpyxl write-only pass, full names (the unit's own data)."""

from openpyxl import Workbook

from core.roc import format_roc_date, format_roc_datetime
from courses import selectors

HEADER = ("姓名", "身分證字號", "電子郵件", "報名狀態", "報名時間", "出席時數")


def write_participants(course, out) -> int:
    from django.utils import timezone

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="報名名單")
    sheet.append(
        [
            f"{course.code or ''} {course.title}",
            format_roc_date(course.start_date) if course.start_date else "",
        ]
    )
    sheet.append(HEADER)
    count = 0
    for enrolment in selectors.participants(course).iterator(chunk_size=500):
        person = enrolment.person
        sheet.append(
            (
                person.name,
                person.reveal_national_id(),
                person.email,
                enrolment.get_status_display(),
                format_roc_datetime(timezone.localtime(enrolment.applied_at)),
                "" if enrolment.attended_hours is None else float(enrolment.attended_hours),
            )
        )
        count += 1
    workbook.save(out)
    return count
