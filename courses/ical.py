"""An admitted course as an iCalendar file (RFC 5545): one all-day event over the course's dates.

Built with the `icalendar` package (escaping of text values, folding of long lines at 75 octets).
The course's dates are days of the Asia/Taipei calendar: an all-day event has no time to shift,
and X-WR-TIMEZONE names the zone for the calendar programs that read it; DTSTAMP is in UTC.
"""

import datetime as dt

from django.utils import timezone
from icalendar import Calendar, Event

PRODID = "-//全國教師在職進修資訊網//研習課程//ZH-TW"
TIME_ZONE = "Asia/Taipei"


def course_event(enrolment, *, url: str, host: str) -> str:
    course = enrolment.course
    end = (course.end_date or course.start_date) + dt.timedelta(days=1)  # DTEND is exclusive
    description = f"課程代碼 {course.code}，研習時數 {course.hours} 小時，開課單位 {course.organiser.name}。"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", TIME_ZONE)
    event = Event()
    event.add("uid", f"enrolment-{enrolment.number}@{host.split(':')[0]}")
    event.add("dtstamp", timezone.now().astimezone(dt.UTC).replace(microsecond=0))
    event.add("dtstart", course.start_date)
    event.add("dtend", end)
    event.add("summary", course.title)
    event.add("location", course.place)
    event.add("description", description)
    event.add("url", url)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
