"""An admitted course as an iCalendar file (RFC 5545): one all-day event over the course's dates.

Written by hand because it is one fixed event of a few properties; the text values are escaped
(RFC 5545 §3.3.11) and long lines folded at 75 octets (§3.1), as calendar programs expect.
"""

import datetime as dt

from django.utils import timezone

PRODID = "-//全國教師在職進修資訊網//研習課程//ZH-TW"


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space, never inside a character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def course_event(enrolment, *, url: str, host: str) -> str:
    course = enrolment.course
    end = (course.end_date or course.start_date) + dt.timedelta(days=1)  # DTEND is exclusive
    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    description = f"課程代碼 {course.code}，研習時數 {course.hours} 小時，開課單位 {course.organiser.name}。"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:enrolment-{enrolment.number}@{host.split(':')[0]}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{course.start_date:%Y%m%d}",
        f"DTEND;VALUE=DATE:{end:%Y%m%d}",
        f"SUMMARY:{escape(course.title)}",
        f"LOCATION:{escape(course.place)}",
        f"DESCRIPTION:{escape(description)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
