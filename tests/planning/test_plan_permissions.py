"""Planning's permissions read the matrix and the unit scope (issue 17 point 1): who reads a school
plan, who may 退回修改, who publishes the 統計專區 — allowed, forbidden, nothing changed."""

import pytest
from django.utils import timezone

from planning.models import PlanningCycle, SchoolPlan, StatisticsPublication
from tests.helpers import signed_in_client


@pytest.fixture
def plan(school):
    return SchoolPlan.objects.create(school=school, year=113, student_count=10, submitted_at=timezone.now())


def _detail(user, plan):
    return signed_in_client(user).get(f"/plans/school/{plan.pk}/")


@pytest.mark.parametrize("role", ["chief", "contact"])
def test_a_school_account_reads_its_own_school_plan_only(actors, plan, role):
    cast = actors(role)
    assert _detail(cast.actor, plan).status_code == 200
    assert _detail(cast.colleague, plan).status_code == 200
    assert _detail(cast.outsider, plan).status_code == 404
    assert _detail(cast.far_outsider, plan).status_code == 404


def test_a_clerk_reads_no_school_plan_not_even_its_own_school_s(actors, plan):
    cast = actors("clerk")
    assert _detail(cast.actor, plan).status_code == 404
    assert _detail(cast.colleague, plan).status_code == 404


def test_a_centre_reads_its_schools_plans_and_offers_reopening_another_centre_does_not(actors, plan):
    cast = actors("centre")
    page = _detail(cast.actor, plan)
    assert page.status_code == 200 and "退回修改" in page.content.decode()
    assert _detail(cast.far_outsider, plan).status_code == 404


def test_only_the_holder_of_statistics_publish_publishes_and_nothing_changes_otherwise(actors, operator):
    PlanningCycle.objects.get_or_create(year=113)
    for role in ("centre", "chief", "teacher"):
        response = signed_in_client(actors(role).actor).post(
            "/statistics/publish/", {"year": "113", "action": "publish"}
        )
        assert response.status_code == 403
    assert not StatisticsPublication.objects.exists()
    response = signed_in_client(operator).post("/statistics/publish/", {"year": "113", "action": "publish"})
    assert response.status_code == 302
    assert StatisticsPublication.objects.filter(cycle__year=113).exists()
