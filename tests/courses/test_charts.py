"""統計圖表 (issue 11 point 7): the three figures, their scope per role, the table and the CSV."""

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from courses.charts import CHARTS
from courses.choices import Domain
from courses.models import Course, CourseStatus, IssuedHours
from teachers.models import Category, EndReason
from tests.conftest import make_teacher
from tests.factories import MembershipFactory, PersonFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db
YEAR = 114  # 2025-08-01 .. 2026-07-31
PAGE = "/unit/charts/"


def course(unit, code, day, *, domain=Domain.CURRICULUM, hours="30"):
    return Course.objects.create(
        code=code,
        title=code,
        organiser=unit,
        authority=unit.authority,
        start_date=day,
        end_date=day,
        hours=Decimal(hours),
        domain=domain,
        status=CourseStatus.CONFIRMED,
    )


def issue(user, course, hours):
    IssuedHours.objects.create(person=user.person, course=course, date=course.end_date, hours=Decimal(hours))


@pytest.fixture
def data(school, other_school, far_school):
    """Three teachers at the school (0, 3 and 20 hours), one at a sister school (7), one far away (40)."""
    sept = course(school, "C1", dt.date(2025, 9, 10))
    dec = course(school, "C2", dt.date(2025, 12, 1), domain=Domain.GUIDANCE)
    sister = course(other_school, "C3", dt.date(2025, 9, 20))
    far = course(far_school, "C4", dt.date(2026, 3, 3), domain=Domain.POLICY)
    make_teacher(school)
    small, big = make_teacher(school), make_teacher(school)
    issue(small, sept, "3")
    issue(big, sept, "12")
    issue(big, dec, "8")
    issue(make_teacher(other_school), sister, "7")
    issue(make_teacher(far_school), far, "40")
    # Outside the year: never counted.
    issue(big, course(school, "OLD", dt.date(2025, 7, 31)), "30")


def table(html, key):
    section = html[html.index(f'id="h-{key}"') :]
    section = section[: section.index("</table>")]
    return {
        label: float(value)
        for label, value in re.findall(r'<th scope="row">([^<]+)</th><td>([\d.]+)</td>', section)
    }


def page(user):
    return signed_in_client(user).get(PAGE, {"year": YEAR}).content.decode()


def test_a_schools_charts_count_only_its_own_teachers_and_courses(data, chief):
    html = page(chief)
    assert table(html, "hours-per-teacher") == {
        "0 小時": 1,
        "未滿 6 小時": 1,
        "6 至未滿 12 小時": 0,
        "12 至未滿 18 小時": 0,
        "18 至未滿 36 小時": 1,
        "36 小時以上": 0,
    }
    domains = table(html, "hours-per-domain")
    assert domains["課程、教學及評量"] == 15 and domains["班級經營與輔導"] == 8
    assert domains["新興教育政策"] == 0
    months = table(html, "courses-per-month")
    assert months["114年9月"] == 1 and months["114年12月"] == 1 and sum(months.values()) == 2


def test_a_centre_sees_its_authority_and_not_another(data, centre):
    html = page(centre)
    teachers = table(html, "hours-per-teacher")
    assert sum(teachers.values()) == 4  # the school's three and the sister school's one
    assert teachers["36 小時以上"] == 0  # the far teacher is another authority's
    assert table(html, "hours-per-domain")["新興教育政策"] == 0
    assert sum(table(html, "courses-per-month").values()) == 3


def test_the_operator_sees_everything(data, operator):
    html = page(operator)
    assert sum(table(html, "hours-per-teacher").values()) == 5
    assert table(html, "hours-per-domain")["新興教育政策"] == 40
    assert sum(table(html, "courses-per-month").values()) == 4


def test_teachers_have_no_charts(teacher):
    assert signed_in_client(teacher).get(PAGE).status_code == 403
    assert (
        signed_in_client(teacher).get(reverse("courses:chart-csv", args=["hours-per-domain"])).status_code
        == 403
    )


def test_the_csv_holds_the_tables_numbers(data, clerk):
    client = signed_in_client(clerk)
    html = client.get(PAGE, {"year": YEAR}).content.decode()
    for key in ("hours-per-teacher", "hours-per-domain", "courses-per-month"):
        response = client.get(reverse("courses:chart-csv", args=[key]), {"year": YEAR})
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert {label: float(value) for label, value in rows[1:]} == table(html, key)
        assert response["Content-Disposition"] == f'attachment; filename="{key}-{YEAR}.csv"'
        assert rows[0] == list(CHARTS[key][1:])  # zh-Hant headers
        if key == "hours-per-domain":
            assert all(value.count(".") == 1 and len(value.split(".")[1]) == 2 for _label, value in rows[1:])
        else:
            assert all(value.isdigit() for _label, value in rows[1:])


def test_the_chart_data_travels_as_json_and_no_script_is_inline(data, chief):
    html = page(chief)
    payload = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)
    data = json.loads(payload.group(1))
    assert data["hours-per-teacher"]["values"] == [1, 1, 0, 0, 1, 0]
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "js/courses_charts.js" in html and "vendor/chartjs/chart.umd.min.js" in html
    assert html.count("<caption>") == 3 and 'scope="col"' in html


def test_a_year_out_of_range_or_an_unknown_chart_is_not_found(chief):
    client = signed_in_client(chief)
    assert client.get(PAGE, {"year": 50}).status_code == 404
    assert client.get(reverse("courses:chart-csv", args=["nope"])).status_code == 404


def test_the_population_is_teachers_in_service_only(data, chief, school):
    """Issue 18 point 9: staff (行政職員) and a teacher who retired before the year's end are not counted."""
    MembershipFactory(person=PersonFactory(), unit=school, category=Category.STAFF)
    MembershipFactory(
        person=PersonFactory(), unit=school, end_date=dt.date(2026, 1, 31), end_reason=EndReason.RETIRED
    )
    counts = table(page(chief), "hours-per-teacher")
    assert counts["0 小時"] == 1 and sum(counts.values()) == 3
