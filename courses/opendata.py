"""The public course catalogue as open data (issue 23 point 5): CSV and JSON, paged, cacheable.

Only what the public course pages show already, and nothing about a person: no contact name,
phone or e-mail, no registering account, no participant. One row per course with a public code,
past 登錄中 and not cancelled, in code order (stable across pages). Licensed under the
政府資料開放授權條款; the columns are documented in docs/open-data.md and, for the JSON, in the
OpenAPI document (components.schemas.CatalogueCourse). Read from the replica when it is usable
(core.replica), like the course search.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control

from core import exports
from core.replica import read_alias
from courses.models import Course, CourseStatus
from courses.selectors import ADMITTED_COUNT, public_courses

LICENCE_NAME = "政府資料開放授權條款－第1版"
LICENCE_URL = "https://data.gov.tw/license"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_AGE = 300  # seconds: a public cache may serve a page this long
LIST_SEPARATOR = ";"

# (name, description): the columns of the CSV and the fields of each JSON record, in this order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "課程代碼"),
    ("title", "課程名稱"),
    ("organiser_code", "開課單位代碼"),
    ("organiser", "開課單位"),
    ("authority", "主管機關"),
    ("start_date", "上課開始日期（ISO 8601）"),
    ("end_date", "上課結束日期（ISO 8601）"),
    ("hours", "研習時數"),
    ("place", "開課地點"),
    ("domain", "研習範疇代碼"),
    ("domain_label", "研習範疇"),
    ("tags", "屬性標籤（CSV 以分號分隔）"),
    ("audience_stages", "研習對象教育階段（空白表示不限；CSV 以分號分隔）"),
    ("audience_authorities", "研習對象所屬主管機關（空白表示不限；CSV 以分號分隔）"),
    ("mode", "在職進修方式代碼"),
    ("mode_label", "在職進修方式"),
    ("enrol_opens_at", "報名開始時間（ISO 8601，臺北時間）"),
    ("enrol_closes_at", "報名截止時間（ISO 8601，臺北時間）"),
    ("capacity", "名額（空白表示不限）"),
    ("seats_left", "剩餘名額（空白表示不限）"),
    ("url", "課程頁面網址"),
)
LIST_COLUMNS = {"tags", "audience_stages", "audience_authorities"}


def catalogue() -> QuerySet[Course]:
    """The catalogue's courses, in code order, with what each row needs (a fixed number of queries)."""
    return (
        public_courses()
        .exclude(status=CourseStatus.CANCELLED)
        .using(read_alias())
        .prefetch_related("audience_stages", "audience_authorities")
        .annotate(admitted_count=ADMITTED_COUNT)
        .order_by("code")
    )


def _iso(moment) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def record(course: Course, *, site: str) -> dict:
    seats = None if course.capacity is None else max(0, course.capacity - course.admitted_count)
    return {
        "code": course.code,
        "title": course.title,
        "organiser_code": course.organiser.code,
        "organiser": course.organiser.name,
        "authority": course.authority.name if course.authority else None,
        "start_date": course.start_date.isoformat() if course.start_date else None,
        "end_date": course.end_date.isoformat() if course.end_date else None,
        "hours": float(course.hours),
        "place": course.place,
        "domain": course.domain or None,
        "domain_label": course.get_domain_display() if course.domain else None,
        "tags": [tag.name for tag in course.tags.all()],
        "audience_stages": [str(row.get_stage_display()) for row in course.audience_stages.all()],
        "audience_authorities": [unit.name for unit in course.audience_authorities.all()],
        "mode": course.mode,
        "mode_label": str(course.get_mode_display()),
        "enrol_opens_at": _iso(course.enrol_opens_at),
        "enrol_closes_at": _iso(course.enrol_closes_at),
        "capacity": course.capacity,
        "seats_left": seats,
        "url": f"{site}/courses/{course.code}/",
    }


@dataclass
class Page:
    number: int
    size: int
    total: int
    records: list[dict]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page(number: int, size: int, *, site: str) -> Page:
    """One page of the catalogue (1-based); past the last page, an empty one."""
    courses = catalogue()
    total = courses.count()
    offset = (number - 1) * size
    rows = [record(course, site=site) for course in courses[offset : offset + size]] if offset < total else []
    return Page(number=number, size=size, total=total, records=rows)


KINDS = {
    "hours": exports.Kind.DECIMAL,
    "capacity": exports.Kind.INTEGER,
    "seats_left": exports.Kind.INTEGER,
}
CSV_COLUMNS = [exports.Column(name, KINDS.get(name, exports.Kind.TEXT)) for name, _description in COLUMNS]


def csv_text(records: list[dict]) -> str:
    """The page as CSV (core.exports: UTF-8 with BOM, CRLF), a header row of the column names;
    lists joined by semicolons."""
    rows = (
        [LIST_SEPARATOR.join(row[name]) if name in LIST_COLUMNS else row[name] for name, _d in COLUMNS]
        for row in records
    )
    return "".join(exports.csv_lines(exports.Table(title="courses", columns=CSV_COLUMNS, rows=rows)))


def cacheable(request, body: bytes, content_type: str, *, links: dict[str, str]) -> HttpResponse:
    """The answer with a strong ETag of its bytes and public caching; 304 when If-None-Match has it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    response["Access-Control-Allow-Origin"] = "*"
    response["Link"] = ", ".join(
        [f'<{url}>; rel="{rel}"' for rel, url in links.items() if url] + [f'<{LICENCE_URL}>; rel="license"']
    )
    return response
