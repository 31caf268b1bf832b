"""One refusal type (issue 17 point 2): a code, a user-facing message and details, answered the same
way by every app — not visible 404, forbidden 403, wrong state or closed window 409."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from accounts.services import BusinessAccountError, Refusal
from core.refusals import Kind, Refused, raise_denial, refused_json, refused_response
from courses import services as course_services
from courses.models import CourseStatus
from planning.services import PlanningError
from rewards.services import RewardError
from teachers.services import RosterError
from tests.conftest import make_business
from tests.courses.conftest import course_fields


def test_every_app_error_is_the_one_refusal_type():
    for error in (
        BusinessAccountError(Refusal.LAST_CHIEF),
        RosterError("x", code="x"),
        course_services.CourseError("x", code="x"),
        PlanningError("x", code="x"),
        RewardError("x", code="x"),
    ):
        assert isinstance(error, Refused)


def test_a_business_account_refusal_carries_its_code_wording_and_status():
    error = BusinessAccountError(Refusal.FORBIDDEN)
    assert (error.code, str(error.message), error.status) == (
        "forbidden",
        "您沒有管理此業務帳號的權限。",
        403,
    )
    error = BusinessAccountError(Refusal.LAST_CHIEF)
    assert (error.code, error.status) == ("last_chief", 409)


@pytest.mark.parametrize(
    ("kind", "status"), [(Kind.FORBIDDEN, 403), (Kind.CONFLICT, 409), (Kind.INVALID, 400)]
)
def test_the_view_helper_answers_the_kind_s_status_with_the_message(rf_request, kind, status):
    error = Refused("不能這樣做。", code="some_rule", kind=kind, details=["甲"])
    response = refused_response(rf_request, error, "components/refusal.html", {})
    assert response.status_code == status
    page = response.content.decode()
    assert "不能這樣做。" in page and "甲" in page


def test_a_refusal_of_something_not_visible_is_a_404(rf_request):
    with pytest.raises(Http404):
        refused_response(rf_request, Refused("x", kind=Kind.NOT_VISIBLE), "components/refusal.html", {})


@pytest.mark.parametrize(
    "kind, raised",
    [
        (Kind.NOT_VISIBLE, Http404),
        (Kind.FORBIDDEN, PermissionDenied),
        (Kind.CONFLICT, None),
        (Kind.INVALID, None),
    ],
)
def test_a_view_answering_with_its_own_message_still_answers_404_and_403(kind, raised):
    """raise_denial: who the actor is decides 404/403 as everywhere; any other refusal is the view's."""
    error = Refused("不行", code="x", kind=kind)
    if raised is None:
        assert raise_denial(error) is None
    else:
        with pytest.raises(raised):
            raise_denial(error)


def test_json_endpoints_answer_the_same_code_message_and_status():
    response = refused_json(PlanningError("期間已過。", code="window_closed"), saved=False)
    assert response.status_code == 409
    assert response.content.decode() == (
        '{"saved": false, "code": "window_closed", "message": "\\u671f\\u9593\\u5df2\\u904e\\u3002", "details": []}'
    )


def test_a_course_action_outside_the_scope_or_the_permission_is_refused_by_code_not_by_wording(
    clerk, other_school, teacher
):
    course = course_services.course_register(actor=clerk, fields=course_fields())
    outsider = make_business(other_school, "clerk")  # the permission, another unit: not visible
    with pytest.raises(course_services.CourseError) as refused:
        course_services.course_open(actor=outsider, course=course)
    assert (refused.value.code, refused.value.status) == ("not_found", 404)
    assert str(refused.value.message) == "找不到此研習課程。"
    with pytest.raises(course_services.CourseError) as refused:  # no permission at all: forbidden
        course_services.course_open(actor=teacher, course=course)
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert str(refused.value.message) == "您沒有執行此課程作業的權限。"
    course.refresh_from_db()
    assert course.status == CourseStatus.REGISTERING


@pytest.fixture
def rf_request(db, teacher):
    request = RequestFactory().get("/")
    request.user = teacher
    return request
