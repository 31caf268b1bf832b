"""填報率 pages (issue 12 point 9) and the teacher-plan rate beside the school-plan one."""

import csv
import io
from fractions import Fraction

from django.urls import reverse

from accounts.models import BusinessAccountType
from planning import services
from planning.fill_rates import school_plan_fill_rates, teacher_plan_fill_rates
from planning.models import PlanningCycle, SchoolPlan, TeacherPlan
from tests.factories import BusinessAccountFactory, MembershipFactory
from tests.helpers import signed_in_client
from tests.planning.conftest import taipei

URL = "/centre/fill-rates/"


def _setup(school, other_school, teacher):
    second = MembershipFactory(unit=school).person
    MembershipFactory(unit=other_school)
    services.roster_snapshot_take(cycle_id=PlanningCycle.objects.get(year=113).pk)
    SchoolPlan.objects.create(school=school, year=113, submitted_at=taipei(2024, 8, 20, 9))
    SchoolPlan.objects.create(
        school=other_school, year=113, submitted_at=taipei(2024, 8, 23, 17, 0, 1)
    )  # late
    TeacherPlan.objects.create(
        person=teacher.person, year=113, school=school, submitted_at=taipei(2024, 9, 24, 17)
    )
    TeacherPlan.objects.create(
        person=second, year=113, school=school, submitted_at=taipei(2024, 9, 24, 17, 0, 1)
    )


def test_teacher_rate_counts_plans_submitted_in_window_over_snapshot_teachers(
    school, other_school, teacher, authority
):
    _setup(school, other_school, teacher)
    rate = teacher_plan_fill_rates(year=113)[authority.pk]
    assert (rate.submitted, rate.total, rate.rate) == (1, 3, Fraction(1, 3))


def test_a_centre_sees_its_schools_sorted_and_can_download(centre, school, other_school, teacher, authority):
    _setup(school, other_school, teacher)
    client = signed_in_client(centre)
    page = client.get(URL, {"sort": "teacher_rate", "dir": "desc"}).content.decode()
    assert school.name in page and other_school.name in page
    assert page.index(school.name) < page.index(other_school.name)
    assert 'aria-sort="descending"' in page
    assert "50.0%" in page  # 1 of 2 schools
    csv = client.get(URL, {"download": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert f"{school.code},{school.name},國小,是,1,2,50.00%" in text
    assert f"{other_school.code},{other_school.name},國小,否,0,1,0.00%" in text


def test_a_centre_does_not_see_another_authoritys_schools(school, taipei_school):
    centre = BusinessAccountFactory(unit=taipei_school.authority, type=BusinessAccountType.CHIEF).user
    page = signed_in_client(centre).get(URL).content.decode()
    assert taipei_school.name in page and school.name not in page


def test_the_operator_sees_every_authority_and_the_national_figure(
    operator, school, other_school, teacher, authority
):
    _setup(school, other_school, teacher)
    page = signed_in_client(operator).get(URL).content.decode()
    assert "全國學校填報率" in page and "臺北市" in page and authority.name in page
    school_rate = school_plan_fill_rates(year=113)[authority.pk]
    assert f"{school_rate.submitted} / {school_rate.total}" in page
    response = signed_in_client(operator).get(URL, {"download": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="fill-rates-113.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert list(rows[0]) == ["主管機關代碼", "主管機關", "學校送出數", "學校數", "學校填報率", "教師送出數",
                             "教師數", "教師填報率"]  # fmt: skip
    mine = next(r for r in rows if r["主管機關代碼"] == authority.code)
    assert (mine["學校送出數"], mine["學校數"]) == (str(school_rate.submitted), str(school_rate.total))
    assert mine["學校填報率"] == f"{float(school_rate.rate) * 100:.2f}%"


def test_schools_and_teachers_cannot_open_fill_rates(chief, teacher):
    for user in (chief, teacher):
        assert signed_in_client(user).get(reverse("planning:fill-rates")).status_code == 403


def test_the_report_is_read_in_the_selector_national_for_the_operator_own_schools_for_a_centre(
    operator, centre, school, other_school, far_school, teacher, authority
):
    """planning.selectors.fill_rate_report: the unit scope decides national or one authority."""
    from planning import selectors

    _setup(school, other_school, teacher)
    cycle = PlanningCycle.objects.get(year=113)
    national = selectors.fill_rate_report(operator, cycle)
    assert national["national"] and "surveys" in national and "authority" not in national
    assert [row["code"] for row in national["rows"]] == sorted(row["code"] for row in national["rows"])
    mine = selectors.fill_rate_report(centre, cycle, sort="teacher_rate", descending=True)
    assert not mine["national"] and mine["authority"] == authority
    assert [row["code"] for row in mine["rows"]] == [school.code, other_school.code]
    assert far_school.code not in {row["code"] for row in mine["rows"]}
    assert (mine["summary_school"].submitted, mine["summary_school"].total) == (1, 2)
    assert selectors.fill_rate_report(centre, cycle, sort="nonsense")["sort"] == "code"
