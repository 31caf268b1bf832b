"""合作平臺研習時數 API (django-ninja): partner platforms push issued hours for their own courses.

POST /api/partner/hours with `Authorization: Bearer <token>`; the OpenAPI description is served
at /api/partner/openapi.json and read as a page at /api/partner/docs/.

Every answer other than 200 is a `Problem` (issue 18 point 8): a machine-readable `code`, a zh-Hant
`detail` and, for refused records, one entry per record. Types are strict (hours is a JSON number,
`true` is not one hour); the limiter is django-ninja's throttling, per credential, with
`Retry-After` on 429.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from courses import partners

RATE_LIMIT_PER_MINUTE = 30
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


class PartnerThrottle(SimpleRateThrottle):
    """django-ninja's limiter, keyed by the credential; the rate is read from the settings at each
    call (settings.PARTNER_API_RATE_PER_MINUTE), so an override in a test takes effect."""

    scope = "partner"
    cache_format = "throttle_%(scope)s_%(ident)s"

    def __init__(self):
        super().__init__(rate=self._rate())

    @staticmethod
    def _rate() -> str:
        return f"{getattr(settings, 'PARTNER_API_RATE_PER_MINUTE', RATE_LIMIT_PER_MINUTE)}/m"

    def allow_request(self, request) -> bool:
        self.num_requests, self.duration = self.parse_rate(self._rate())
        return super().allow_request(request)

    def get_cache_key(self, request):
        credential = getattr(request, "auth", None)
        if credential is None:
            return None  # not signed in: answered 401 before any throttle
        return self.cache_format % {"scope": self.scope, "ident": credential.pk}

    def wait(self) -> float:
        # Always a delay, so 429 always carries Retry-After (the library's may be None).
        return super().wait() or float(self.duration)


api = NinjaAPI(
    title="全國教師在職進修資訊網 合作平臺研習時數 API",
    version="1",
    description=(
        "合作平臺以單位憑證（Bearer token）登錄自行開設課程的研習時數。每筆資料以課程代碼、身分證字號"
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


@api.post("/hours", response={200: BatchAccepted, **ERRORS}, summary="登錄研習時數（整批）")
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
    "/hours",
    auth=None,
    throttle=[],
    include_in_schema=False,
)
def hours_other_methods(request):
    """Any other method: 405 in the documented shape (ninja's own is text/plain)."""
    response = problem(request, 405)
    response["Allow"] = "POST"
    return response
