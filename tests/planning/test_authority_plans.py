"""Authorities see what their schools planned (issue 20 point 5): the school plans' answers counted,
planned against actual hours per domain at authority and school level, and the teacher plan's 教師資料
from the roster snapshot. Another authority's schools stay out (404, never counted)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from courses.models import Course, IssuedHours
from planning import services
from planning.models import PlannedHours, PlanningCycle, SchoolPlan, SchoolPlanAnswer, TeacherPlan
from tests.helpers import signed_in_client
from tests.planning.conftest import TEACHER_OPENS

pytestmark = pytest.mark.django_db
URL = "/centre/plans/"


@pytest.fixture
def planned(teacher, school, other_school, far_school, clock):
    clock(TEACHER_OPENS)
    for unit, option in ((school, "workshop"), (other_school, "workshop"), (far_school, "workshop")):
        plan = SchoolPlan.objects.create(school=unit, year=113, submitted_at=TEACHER_OPENS)
        SchoolPlanAnswer.objects.create(plan=plan, question="method", option=option)
    SchoolPlan.objects.create(school=other_school, year=112)  # another year: not counted
    plan = TeacherPlan.objects.create(person=teacher.person, school=school, year=113)
    PlannedHours.objects.create(plan=plan, domain="curriculum", hours=Decimal("12"))
    course = Course.objects.create(code="C1", title="課程", organiser=school, domain="curriculum")
    IssuedHours.objects.create(
        person=teacher.person, course=course, date=dt.date(2024, 10, 1), hours=Decimal("3")
    )
    IssuedHours.objects.create(
        person=teacher.person, course=course, date=dt.date(2024, 7, 1), hours=Decimal("50")
    )
    return plan


def test_an_authority_sees_its_schools_answers_counted_and_hours_per_domain(centre, school, planned):
    page = signed_in_client(centre).get(URL).content.decode()
    assert "已確認送出 2 校" in page  # its two schools, not the far one
    assert '<th scope="row">工作坊</th><td>2</td>' in page
    assert (
        '<th scope="row">課程、教學及評量</th><td>12.00</td><td>3.00</td>' in page
    )  # last year's 50 left out
    assert (
        reverse("planning:school-plan-detail", args=[SchoolPlan.objects.get(school=school, year=113).pk])
        in page
    )
    school_page = signed_in_client(centre).get(URL, {"school": school.pk}).content.decode()
    assert f"規劃與實際研習時數：{school.name}" in school_page


def test_another_authority_s_school_is_not_found(centre, far_school, planned):
    assert signed_in_client(centre).get(URL, {"school": far_school.pk}).status_code == 404


@pytest.mark.parametrize("role", ["chief", "teacher", "clerk"])
def test_schools_and_teachers_cannot_open_the_authority_page(role, request, planned):
    assert signed_in_client(request.getfixturevalue(role)).get(URL).status_code == 403


def test_the_operator_picks_the_authority(operator, authority, planned):
    page = signed_in_client(operator).get(URL, {"authority": authority.code}).content.decode()
    assert "已確認送出 2 校" in page


def test_the_school_plan_page_shows_its_teachers_planned_and_actual_hours(centre, school, planned):
    plan = SchoolPlan.objects.get(school=school, year=113)
    page = (
        signed_in_client(centre).get(reverse("planning:school-plan-detail", args=[plan.pk])).content.decode()
    )
    assert '<th scope="row">課程、教學及評量</th><td>12.00</td><td>3.00</td>' in page


def test_the_teacher_plan_shows_the_teacher_data_from_the_snapshot(teacher, school, clock):
    clock(TEACHER_OPENS)
    cycle = PlanningCycle.objects.get(year=113)
    services.roster_snapshot_take(cycle_id=cycle.pk)
    page = signed_in_client(teacher).get("/me/plan/").content.decode()
    assert "<h2>教師資料</h2>" in page
    assert f"<dt>服務學校</dt><dd>{school.name}</dd>" in page
    assert f"<dt>姓名</dt><dd>{teacher.person.name}</dd>" in page
