"""Plans that can be corrected (issue 20 point 4, SPEC §6): reopening with a reason, the operator's
extension after the window, and a 確認送出 inside the extension counting for SPEC §7."""

import datetime as dt

import pytest
from django.core import mail

from core.refusals import Kind, Refused
from planning import fill_rates, services
from planning.models import PlanKind, PlanReopening, SchoolPlan, TeacherPlan
from tests.helpers import signed_in_client
from tests.planning.conftest import SCHOOL_CLOSES, SCHOOL_OPENS, TEACHER_CLOSES, plan_post, taipei

INSIDE = SCHOOL_OPENS + dt.timedelta(days=1)
AFTER = SCHOOL_CLOSES + dt.timedelta(days=2)


def _reopen_url(kind, plan):
    return f"/plans/{kind}/{plan.pk}/reopen/"


@pytest.fixture
def submitted(chief, clock):
    clock(INSIDE)
    response = signed_in_client(chief).post("/unit/plan/", plan_post("submit"))
    assert response.status_code == 302
    plan = SchoolPlan.objects.get()
    assert plan.submitted_at == INSIDE
    return plan


def test_the_school_s_authority_reopens_a_plan_while_open_with_a_reason_recorded_and_mailed(
    submitted, centre, chief, clock, django_capture_on_commit_callbacks
):
    clock(INSIDE + dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(centre).post(_reopen_url("school", submitted), {"reason": "學生總數填錯"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.submitted_at is None and submitted.extended_until is None
    record = PlanReopening.objects.get()
    assert (record.reason, record.reopened_by, record.previous_submitted_at) == (
        "學生總數填錯",
        centre,
        INSIDE,
    )
    assert (
        len(mail.outbox) == 1 and chief.email in mail.outbox[0].to and "學生總數填錯" in mail.outbox[0].body
    )
    # The school sees why, and can correct and submit again inside the window.
    page = signed_in_client(chief).get("/unit/plan/").content.decode()
    assert "已退回修改" in page and "學生總數填錯" in page and "data-autosave" in page
    assert signed_in_client(chief).post("/unit/plan/", plan_post("submit", students=99)).status_code == 302
    submitted.refresh_from_db()
    assert submitted.submitted_at is not None and submitted.student_count == 99


def test_a_reason_is_required_and_nothing_changes_without_one(submitted, centre, clock):
    clock(INSIDE)
    response = signed_in_client(centre).post(_reopen_url("school", submitted), {"reason": "  "})
    assert response.status_code == 200
    assert "請填寫退回原因" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.submitted_at == INSIDE and not PlanReopening.objects.exists()


def test_neither_the_school_nor_another_authority_may_reopen(submitted, chief, actors, clock):
    """The school sees its plan but may not reopen it (403, said why); another authority does not
    see it at all (404, no existence leak); the service refuses the same way."""
    other_centre = actors("centre").far_outsider
    clock(INSIDE)
    for method in ("get", "post"):
        response = getattr(signed_in_client(chief), method)(_reopen_url("school", submitted), {"reason": "x"})
        page = response.content.decode()
        assert response.status_code == 403 and "您可以檢視這份規劃，但不能退回" in page
        assert "退回為草稿</button>" not in page
        response = getattr(signed_in_client(other_centre), method)(
            _reopen_url("school", submitted), {"reason": "x"}
        )
        assert response.status_code == 404 and "您可以檢視這份規劃" not in response.content.decode()
    assert signed_in_client(chief).post("/plans/school/999999/reopen/", {"reason": "x"}).status_code == 404
    for actor, kind in ((chief, Kind.FORBIDDEN), (other_centre, Kind.NOT_VISIBLE)):
        with pytest.raises(Refused) as refused:
            services.plan_reopen(actor=actor, kind=PlanKind.SCHOOL, plan_id=submitted.pk, reason="x")
        assert refused.value.kind == kind
    submitted.refresh_from_db()
    assert submitted.submitted_at == INSIDE and not PlanReopening.objects.exists()


def test_after_the_window_the_authority_cannot_reopen_and_the_operator_only_with_an_extension(
    submitted, centre, chief, operator, clock
):
    clock(AFTER)
    response = signed_in_client(centre).post(_reopen_url("school", submitted), {"reason": "補正"})
    assert response.status_code == 409 and "填報期程已於 113年8月23日" in response.content.decode()
    assert "僅教師進修網管理者可退回，且須同時給予延長截止時間；規劃未變更" in response.content.decode()
    admin = signed_in_client(operator)
    response = admin.post(_reopen_url("school", submitted), {"reason": "補正"})
    assert response.status_code == 409 and "延長截止時間" in response.content.decode()
    response = admin.post(
        _reopen_url("school", submitted),
        {"reason": "補正", "extension_day": "113/8/24", "extension_time": "17:00"},
    )
    assert response.status_code == 409 and "須晚於現在" in response.content.decode()
    response = admin.post(
        _reopen_url("school", submitted),
        {"reason": "補正", "extension_day": "113年8月26日", "extension_time": "99"},
    )
    assert response.status_code == 200 and "時間格式不正確" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.submitted_at == INSIDE and not PlanReopening.objects.exists()
    # Without an extension a closed window stays closed for the school.
    assert signed_in_client(chief).post("/unit/plan/", plan_post("draft")).status_code in (403, 409)


def test_a_plan_resubmitted_inside_its_extension_counts_and_after_it_is_refused(
    submitted, chief, operator, clock
):
    clock(AFTER)
    until = taipei(2024, 8, 27, 12, 0, 0)
    response = signed_in_client(operator).post(
        _reopen_url("school", submitted),
        {"reason": "補正", "extension_day": "113/8/27", "extension_time": "12:00"},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.submitted_at is None and submitted.extended_until == until
    assert PlanReopening.objects.get().extended_until == until
    assert submitted.school_id not in fill_rates.school_plans_submitted_in_window(year=113)
    page = signed_in_client(chief).get("/unit/plan/").content.decode()
    assert "延長截止時間至" in page and "data-autosave" in page
    clock(until)  # the extension's last instant is inside it
    assert signed_in_client(chief).post("/unit/plan/", plan_post("submit")).status_code == 302
    submitted.refresh_from_db()
    assert submitted.submitted_at == until
    assert submitted.school_id in fill_rates.school_plans_submitted_in_window(year=113)
    rate = fill_rates.school_plan_fill_rates(year=113)[submitted.school.authority_id]
    assert rate.submitted == 1
    # Reopened once more after the extension ran out: nothing can be saved any more.
    clock(until + dt.timedelta(seconds=1))
    services.plan_reopen(
        actor=operator,
        kind=PlanKind.SCHOOL,
        plan_id=submitted.pk,
        reason="再補正",
        extended_until=until + dt.timedelta(hours=1),
    )
    clock(until + dt.timedelta(hours=1, seconds=1))
    assert signed_in_client(chief).post("/unit/plan/", plan_post("submit")).status_code in (403, 409)
    submitted.refresh_from_db()
    assert submitted.submitted_at is None


def test_a_draft_cannot_be_reopened_and_an_extension_is_refused_while_the_window_is_open(
    submitted, operator, clock
):
    clock(INSIDE)
    with pytest.raises(services.PlanningError, match="不需延長"):
        services.plan_reopen(
            actor=operator,
            kind=PlanKind.SCHOOL,
            plan_id=submitted.pk,
            reason="x",
            extended_until=SCHOOL_CLOSES + dt.timedelta(days=3),
        )
    services.plan_reopen(actor=operator, kind=PlanKind.SCHOOL, plan_id=submitted.pk, reason="x")
    with pytest.raises(services.PlanningError, match="尚未確認送出"):
        services.plan_reopen(actor=operator, kind=PlanKind.SCHOOL, plan_id=submitted.pk, reason="x")
    assert PlanReopening.objects.count() == 1


def test_only_the_operator_reopens_a_teacher_plan(teacher, school, centre, chief, operator, clock):
    plan = TeacherPlan.objects.create(
        person=teacher.person, year=113, school=school, submitted_at=TEACHER_CLOSES
    )
    clock(TEACHER_CLOSES - dt.timedelta(hours=1))
    for actor, status in ((centre, 404), (chief, 404), (teacher, 403)):  # the teacher sees their own plan
        response = signed_in_client(actor).post(_reopen_url("teacher", plan), {"reason": "x"})
        assert response.status_code == status
        assert ("您可以檢視這份規劃，但不能退回" in response.content.decode()) == (status == 403)
        with pytest.raises(Refused) as refused:
            services.plan_reopen(actor=actor, kind=PlanKind.TEACHER, plan_id=plan.pk, reason="x")
        assert refused.value.status == status
    plan.refresh_from_db()
    assert plan.submitted_at == TEACHER_CLOSES
    assert signed_in_client(operator).post(_reopen_url("teacher", plan), {"reason": "x"}).status_code == 302
    plan.refresh_from_db()
    assert plan.submitted_at is None


def test_wrong_state_is_409_with_its_wording_and_the_reason_backstop_is_400(submitted, operator, clock):
    """A draft (nothing to reopen) and an extension while the window is open are conflicts with the
    state (409, said in zh-Hant); an empty reason past the form is invalid input (400)."""
    clock(INSIDE)
    admin = signed_in_client(operator)
    response = admin.post(
        _reopen_url("school", submitted),
        {"reason": "補正", "extension_day": "113/8/30", "extension_time": "17:00"},
    )
    assert response.status_code == 409
    assert "填報期程仍在進行中（至 113年8月23日" in response.content.decode()
    assert "退回為草稿</button>" in response.content.decode()  # the operator may try again
    assert admin.post(_reopen_url("school", submitted), {"reason": "補正"}).status_code == 302
    response = admin.post(_reopen_url("school", submitted), {"reason": "補正"})
    assert (
        response.status_code == 409
        and "本規劃尚未確認送出，仍是草稿，不需退回。" in response.content.decode()
    )
    with pytest.raises(Refused) as refused:
        services.plan_reopen(actor=operator, kind=PlanKind.SCHOOL, plan_id=submitted.pk, reason=" ")
    assert (refused.value.status, refused.value.code) == (400, "reason_required")
    assert PlanReopening.objects.count() == 1
