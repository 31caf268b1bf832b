"""The portal's API (django-ninja), one OpenAPI document for both parts:

- 合作平臺研習時數 API: partner platforms push issued hours for their own courses, POST
  /api/partner/hours with `Authorization: Bearer <token>` (read as a page at /api/partner/docs/);
- 開放資料: the public course catalogue, GET /api/open-data/courses.json and .csv (courses.opendata),
  no credential, paged, with ETag and public caching (issue 23 point 5).

The OpenAPI description is served at /api/openapi.json (and, as before, /api/partner/openapi.json).

Every answer other than 200 is a `Problem` (issue 18 point 8): a machine-readable `code`, a zh-Hant
`detail` and, for refused records, one entry per record. Types are strict (hours is a JSON number,
`true` is not one hour); the limiter is django-ninja's throttling, per credential, with
`Retry-After` on 429.
"""

from __future__ import annotations

import json
import math
from http import HTTPStatus
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from accounts.security_log import client_ip
from courses import opendata, partners

RATE_LIMIT_PER_MINUTE = 30
OPEN_DATA_RATE_PER_MINUTE = 60  # per client address: a public read, generous
MAX_HOURS = 99999.9  # what IssuedHours.hours holds; a course's own hours are the real bound

# The `code` and zh-Hant `detail` of every error answer, by HTTP status.
PROBLEMS = {
    400: ("bad_request", "請求內容不是有效的 JSON"),
    401: ("unauthenticated", "憑證無效、已撤銷或未提供"),
    404: ("not_found", "找不到此資源"),
    405: ("method_not_allowed", "此路徑只接受 POST 方法"),
    413: ("payload_too_large", "請求內容過大"),
    422: ("invalid_request", "請求格式不正確"),
    429: ("too_many_requests", "呼叫次數超過限制，請稍後再試"),
}
CODE_REFUSED = "batch_refused"
DETAIL_REFUSED = "批次有錯誤，未寫入任何資料"


class PartnerAuth(HttpBearer):
    def authenticate(self, request, token):
        return partners.authenticate(token)


class _SettingsRateThrottle(SimpleRateThrottle):
    """django-ninja's limiter with its per-minute rate read from the settings at each call
    (`setting`, else `default`), so an override in a test takes effect."""

    scope = ""
    setting = ""
    default = 0
    cache_format = "throttle_%(scope)s_%(ident)s"

    def __init__(self):
        super().__init__(rate=self._rate())

    def _rate(self) -> str:
        return f"{getattr(settings, self.setting, self.default)}/m"

    def allow_request(self, request) -> bool:
        self.num_requests, self.duration = self.parse_rate(self._rate())
        return super().allow_request(request)

    def wait(self) -> float:
        # Always a delay, so 429 always carries Retry-After (the library's may be None).
        return super().wait() or float(self.duration)


class PartnerThrottle(_SettingsRateThrottle):
    """Keyed by the credential (settings.PARTNER_API_RATE_PER_MINUTE)."""

    scope = "partner"
    setting = "PARTNER_API_RATE_PER_MINUTE"
    default = RATE_LIMIT_PER_MINUTE

    def get_cache_key(self, request):
        credential = getattr(request, "auth", None)
        if credential is None:
            return None  # not signed in: answered 401 before any throttle
        return self.cache_format % {"scope": self.scope, "ident": credential.pk}


class OpenDataThrottle(_SettingsRateThrottle):
    """The public catalogue: generous, keyed by the client's address as the site's other rate
    limits see it (settings.OPEN_DATA_RATE_PER_MINUTE)."""

    scope = "open_data"
    setting = "OPEN_DATA_RATE_PER_MINUTE"
    default = OPEN_DATA_RATE_PER_MINUTE

    def get_cache_key(self, request):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


api = NinjaAPI(
    title="全國教師在職進修資訊網 API：合作平臺研習時數與開放資料",
    version="1",
    description=(
        "【開放資料】研習課程目錄（/api/open-data/courses.json 與 .csv）免憑證取用，分頁提供，附 ETag"
        f"（If-None-Match 相同時回應 304）與公開快取標頭；以{opendata.LICENCE_NAME}（{opendata.LICENCE_URL}）"
        "釋出，不含任何個人資料。欄位說明見 CatalogueCourse。每一用戶端每分鐘最多呼叫 "
        f"{OPEN_DATA_RATE_PER_MINUTE} 次，超過時回應 429 並附 Retry-After 標頭（秒）。\n\n"
        "【合作平臺研習時數】合作平臺以單位憑證（Bearer token）登錄自行開設課程的研習時數。每筆資料以課程代碼、身分證字號"
        "與研習日期識別，並附人員姓名（身分證字號與姓名須與人員名冊相符）；重送相同資料不會改變任何紀錄；"
        "一批中任一筆有誤即整批不寫入，並逐筆說明原因（回應不含身分證字號）。同一人員於同一課程的時數合計"
        "不超過課程研習時數；研習日期須在課程上課期間內且不晚於今天。錯誤回應一律為 Problem 格式"
        "（code、detail、errors）。每一憑證每分鐘最多呼叫 "
        f"{RATE_LIMIT_PER_MINUTE} 次，超過時回應 429 並附 Retry-After 標頭（秒）。"
    ),
    urls_namespace="partner-api",
    auth=PartnerAuth(),
    throttle=[PartnerThrottle()],
    docs_url=None,  # the docs page is ours (courses.views.partner_api_docs): no CDN, CSP-clean
    openapi_url="/openapi.json",
)

# No control characters: PostgreSQL text cannot hold NUL, and no code, ID, name or date has any.
Text = Annotated[str, Field(strict=True, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]


class HoursRecord(Schema):
    model_config = {"extra": "forbid"}

    course_code: Text = Field(description="課程代碼")
    national_id: Text = Field(description="身分證字號或居留證號")
    name: Text = Field(description="姓名（須與人員名冊相符）")
    date: Text = Field(description="研習日期 YYYY-MM-DD")
    hours: Annotated[float, Field(strict=True, gt=0, le=MAX_HOURS, allow_inf_nan=False)] = Field(
        description="研習時數：大於 0 的數字，最多一位小數"
    )


class HoursBatch(Schema):
    model_config = {"extra": "forbid"}

    records: list[HoursRecord] = Field(max_length=partners.MAX_RECORDS)


class BatchAccepted(Schema):
    created: int
    unchanged: int


class RecordProblem(Schema):
    index: int | None
    reasons: list[str]


class Problem(Schema):
    code: str = Field(description="錯誤代碼，供程式判斷")
    detail: str = Field(description="錯誤說明（正體中文）")
    errors: list[RecordProblem] = Field(default_factory=list, description="逐筆原因")


def problem(request, status: int, *, errors: list | None = None, code: str = "", detail: str = ""):
    default_code, default_detail = PROBLEMS.get(status, ("error", HTTPStatus(status).phrase))
    return api.create_response(
        request,
        {"code": code or default_code, "detail": detail or default_detail, "errors": errors or []},
        status=status,
    )


@api.exception_handler(ValidationError)
def _malformed(request, exc):
    # Never echo the input (pydantic's messages carry it): where, not what.
    where = [".".join(str(p) for p in error.get("loc", ())) for error in exc.errors]
    return problem(request, 422, errors=[{"index": None, "reasons": where}])


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem(request, 401)


@api.exception_handler(Throttled)
def _throttled(request, exc):
    response = problem(request, 429)
    # ninja sets it too when it knows the wait; this keeps it on every 429.
    response["Retry-After"] = str(max(1, math.ceil(exc.wait or 60)))
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc):
    # ninja's own (400 "Cannot parse request body", …) in our shape and language.
    return problem(request, exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return problem(request, 413)


ERRORS = {400: Problem, 401: Problem, 413: Problem, 422: Problem, 429: Problem}


@api.post(
    "/partner/hours",
    response={200: BatchAccepted, **ERRORS},
    summary="登錄研習時數（整批）",
    tags=["合作平臺"],
)
def post_hours(request, batch: HoursBatch):
    """Issue hours for the partner unit's own courses; idempotent per record, refused whole."""
    records = [record.dict() for record in batch.records]
    try:
        result = partners.partner_hours_submit(credential=request.auth, records=records)
    except partners.BatchRefused as refused:
        return Status(422, {"code": CODE_REFUSED, "detail": DETAIL_REFUSED, "errors": refused.errors})
    return Status(200, {"created": result.created, "unchanged": result.unchanged})


@api.api_operation(
    ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"],
    "/partner/hours",
    auth=None,
    throttle=[],
    include_in_schema=False,
)
def hours_other_methods(request):
    """Any other method: 405 in the documented shape (ninja's own is text/plain)."""
    response = problem(request, 405)
    response["Allow"] = "POST"
    return response


# ------------------------------------------------------------------------------------------
# 開放資料: the public course catalogue (courses.opendata)


class Licence(Schema):
    name: str = Field(description="授權條款名稱")
    url: str = Field(description="授權條款網址")


class CatalogueCourse(Schema):
    """One course of the public catalogue; no personal data."""

    code: str = Field(description="課程代碼")
    title: str = Field(description="課程名稱")
    organiser_code: str = Field(description="開課單位代碼")
    organiser: str = Field(description="開課單位")
    authority: str | None = Field(description="主管機關")
    start_date: str | None = Field(description="上課開始日期（ISO 8601）")
    end_date: str | None = Field(description="上課結束日期（ISO 8601）")
    hours: float = Field(description="研習時數")
    place: str = Field(description="開課地點")
    domain: str | None = Field(description="研習範疇代碼")
    domain_label: str | None = Field(description="研習範疇")
    tags: list[str] = Field(description="屬性標籤")
    audience_stages: list[str] = Field(description="研習對象教育階段（空陣列表示不限）")
    audience_authorities: list[str] = Field(description="研習對象所屬主管機關（空陣列表示不限）")
    mode: str = Field(description="在職進修方式代碼")
    mode_label: str = Field(description="在職進修方式")
    enrol_opens_at: str | None = Field(description="報名開始時間（ISO 8601，臺北時間）")
    enrol_closes_at: str | None = Field(description="報名截止時間（ISO 8601，臺北時間）")
    capacity: int | None = Field(description="名額（null 表示不限）")
    seats_left: int | None = Field(description="剩餘名額（null 表示不限）")
    url: str = Field(description="課程頁面網址")


class CataloguePage(Schema):
    licence: Licence = Field(description="授權條款：政府資料開放授權條款")
    schema_url: str = Field(description="欄位定義（本 OpenAPI 文件）")
    page: int = Field(description="頁次（從 1 起算）")
    page_size: int = Field(description="每頁筆數")
    total: int = Field(description="課程總數")
    pages: int = Field(description="總頁數")
    next: str | None = Field(description="下一頁網址")
    previous: str | None = Field(description="上一頁網址")
    results: list[CatalogueCourse]


PAGE = Query(1, ge=1, le=1_000_000, description="頁次（從 1 起算）")
PAGE_SIZE = Query(
    opendata.PAGE_SIZE,
    ge=1,
    le=opendata.MAX_PAGE_SIZE,
    description=f"每頁筆數（最多 {opendata.MAX_PAGE_SIZE}）",
)
CACHE_HEADERS = {
    "ETag": {"description": "此頁內容的實體標籤", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=300", "schema": {"type": "string"}},
}


def _catalogue_page(request, page: int, page_size: int, fmt: str):
    site = request.build_absolute_uri("/").rstrip("/")
    result = opendata.page(page, page_size, site=site)
    base = request.build_absolute_uri(request.path)

    def link(number):
        return f"{base}?page={number}&page_size={page_size}" if 1 <= number <= result.pages else None

    links = {"next": link(page + 1), "prev": link(page - 1) if page <= result.pages else None}
    if fmt == "csv":
        body = opendata.csv_text(result.records).encode()
        return opendata.cacheable(request, body, "text/csv; charset=utf-8", links=links)
    document = {
        "licence": {"name": opendata.LICENCE_NAME, "url": opendata.LICENCE_URL},
        "schema_url": request.build_absolute_uri("/api/openapi.json"),
        "page": result.number,
        "page_size": result.size,
        "total": result.total,
        "pages": result.pages,
        "next": links["next"],
        "previous": links["prev"],
        "results": result.records,
    }
    body = json.dumps(document, ensure_ascii=False, cls=DjangoJSONEncoder).encode()
    return opendata.cacheable(request, body, "application/json; charset=utf-8", links=links)


OPEN = {"auth": None, "throttle": [OpenDataThrottle()], "tags": ["開放資料"]}


@api.get(
    "/open-data/courses.json",
    response={200: CataloguePage, 304: None, 422: Problem, 429: Problem},
    summary="研習課程目錄（JSON）",
    description=f"公開研習課程目錄，一頁一份；{opendata.LICENCE_NAME}（{opendata.LICENCE_URL}）。",
    openapi_extra={"responses": {200: {"headers": CACHE_HEADERS}, 304: {"description": "內容未變更"}}},
    **OPEN,
)
def open_courses_json(request, page: int = PAGE, page_size: int = PAGE_SIZE):
    return _catalogue_page(request, page, page_size, "json")


@api.get(
    "/open-data/courses.csv",
    response={304: None, 422: Problem, 429: Problem},
    summary="研習課程目錄（CSV）",
    description=(
        "與 JSON 相同的欄位（第一列為欄位名稱，UTF-8 含 BOM，清單欄位以分號分隔）；"
        f"{opendata.LICENCE_NAME}（{opendata.LICENCE_URL}）。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "研習課程目錄 CSV",
                "headers": CACHE_HEADERS,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            },
            304: {"description": "內容未變更"},
        }
    },
    **OPEN,
)
def open_courses_csv(request, page: int = PAGE, page_size: int = PAGE_SIZE):
    return _catalogue_page(request, page, page_size, "csv")
