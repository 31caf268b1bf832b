"""合作平臺研習時數 API (django-ninja): partner platforms push issued hours for their own courses.

POST /api/partner/hours with `Authorization: Bearer <token>`; the OpenAPI description is served
at /api/partner/openapi.json and read as a page at /api/partner/docs/.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from courses import partners

RATE_LIMIT_PER_MINUTE = 30


class PartnerAuth(HttpBearer):
    def authenticate(self, request, token):
        return partners.authenticate(token)


api = NinjaAPI(
    title="全國教師在職進修資訊網 合作平臺研習時數 API",
    version="1",
    description=(
        "合作平臺以單位憑證（Bearer token）登錄自行開設課程的研習時數。每筆資料以課程代碼、身分證字號"
        "與研習日期識別，重送相同資料不會改變任何紀錄；一批中任一筆有誤即整批不寫入，並逐筆說明原因"
        "（回應不含身分證字號）。每一憑證每分鐘最多呼叫 "
        f"{RATE_LIMIT_PER_MINUTE} 次。"
    ),
    urls_namespace="partner-api",
    auth=PartnerAuth(),
    docs_url=None,  # the docs page is ours (courses.views.partner_api_docs): no CDN, CSP-clean
    openapi_url="/openapi.json",
)


class HoursRecord(Schema):
    # Strings on purpose: every record is checked by us, so a bad one gets a reason, not an echo.
    course_code: str
    national_id: str
    date: str
    hours: str | float


class HoursBatch(Schema):
    records: list[HoursRecord]


class BatchAccepted(Schema):
    created: int
    unchanged: int


class RecordProblem(Schema):
    index: int | None
    reasons: list[str]


class BatchProblems(Schema):
    detail: str
    errors: list[RecordProblem]


class Problem(Schema):
    detail: str


@api.exception_handler(ValidationError)
def _malformed(request, exc):
    # Never echo the input (pydantic's messages carry it): where, not what.
    where = [".".join(str(p) for p in error.get("loc", ())) for error in exc.errors]
    return api.create_response(
        request, {"detail": "請求格式不正確", "errors": [{"index": None, "reasons": where}]}, status=422
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, {"detail": "憑證無效、已撤銷或未提供"}, status=401)


def _rate_limit(credential) -> None:
    limit = getattr(settings, "PARTNER_API_RATE_PER_MINUTE", RATE_LIMIT_PER_MINUTE)
    key = f"partner-api:{credential.pk}:{timezone.now():%Y%m%d%H%M}"
    cache.add(key, 0, timeout=70)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=70)
        count = 1
    if count > limit:
        raise HttpError(429, "呼叫次數超過限制，請稍後再試")


@api.post(
    "/hours",
    response={200: BatchAccepted, 401: Problem, 422: BatchProblems, 429: Problem},
    summary="登錄研習時數（整批）",
)
def post_hours(request, batch: HoursBatch):
    """Issue hours for the partner unit's own courses; idempotent per record, refused whole."""
    credential = request.auth
    _rate_limit(credential)
    records = [record.dict() for record in batch.records]
    try:
        result = partners.submit_hours(credential=credential, records=records)
    except partners.BatchRefused as refused:
        return Status(422, {"detail": "批次有錯誤，未寫入任何資料", "errors": refused.errors})
    return Status(200, {"created": result.created, "unchanged": result.unchanged})
