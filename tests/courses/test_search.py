"""Public course search and course pages (issue 11 point 2): no sign-in, fixed query count."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses import services
from courses.choices import Domain
from courses.models import CourseStatus, Tag
from tests.courses.conftest import course_fields

pytestmark = pytest.mark.django_db


def codes(response) -> set[str]:
    return {course.code for course in response.context["page"]} if response.context["page"] else set()


def test_search_filters_by_each_attribute(clerk, make_course):
    safety = Tag.objects.get(name="安全教育")
    a = services.course_register(actor=clerk, fields=course_fields(title="校園安全 研習"), tags=[safety])
    a = services.course_open(actor=clerk, course=a)
    b = services.course_register(
        actor=clerk, fields=course_fields(title="性平教育", domain=Domain.POLICY), stages=["國中"]
    )
    b = services.course_open(actor=clerk, course=b)
    hidden = make_course(status=CourseStatus.REGISTERING)
    client = Client()
    url = reverse("courses:search")
    assert codes(client.get(url, {"q": ""})) >= {a.code, b.code}
    assert hidden.pk not in [c.pk for c in client.get(url, {"q": ""}).context["page"]]
    assert codes(client.get(url, {"code": a.code})) == {a.code}
    assert codes(client.get(url, {"q": "校園 研習"})) == {a.code}
    assert codes(client.get(url, {"tag": safety.pk})) == {a.code}
    assert codes(client.get(url, {"domain": Domain.POLICY})) == {b.code}
    assert codes(client.get(url, {"stage": "國中"})) == {a.code, b.code}  # a is for every stage
    assert codes(client.get(url, {"stage": "高中"})) == {a.code}
    assert codes(client.get(url, {"authority": a.authority_id})) == {a.code, b.code}
    assert codes(client.get(url, {"mode": "credit_master"})) == set()
    later = (a.end_date + dt.timedelta(days=1)).isoformat()
    assert codes(client.get(url, {"date_from": later})) == set()
    assert codes(client.get(url, {"date_to": a.start_date.isoformat()})) == {a.code, b.code}


def test_open_now_leaves_out_closed_and_not_yet_open_courses(make_course):
    open_course = make_course()
    make_course(enrol_opens_at=timezone.now() + dt.timedelta(days=1))
    make_course(status=CourseStatus.CLOSED)
    response = Client().get(reverse("courses:search"), {"open_now": "on"})
    assert codes(response) == {open_course.code}


def test_query_count_does_not_grow_with_the_result(clerk):
    safety = Tag.objects.get(name="安全教育")

    def count() -> int:
        Client().get(reverse("courses:search"), {"domain": Domain.LITERACY})  # fills the choice cache
        with CaptureQueriesContext(connection) as queries:
            Client().get(reverse("courses:search"), {"domain": Domain.LITERACY})
        return len(queries)

    for _ in range(2):
        services.course_open(
            actor=clerk, course=services.course_register(actor=clerk, fields=course_fields(), tags=[safety])
        )
    few = count()
    for _ in range(8):
        services.course_open(
            actor=clerk, course=services.course_register(actor=clerk, fields=course_fields(), tags=[safety])
        )
    assert count() == few


def test_course_page_shows_place_window_dates_hours_and_seats_left(make_course, make_teacher):
    course = make_course(capacity=3)
    services.enrolment_enrol(actor=make_teacher(), course=course)
    html = Client().get(reverse("courses:detail", args=[course.code])).content.decode()
    for text in ("視聽教室", "剩餘名額", "<dd>2</dd>", "研習時數", "報名時間", "上課日期"):
        assert text in html
    assert f"{course.start_date.year - 1911}年" in html  # ROC dates


def test_registering_course_has_no_public_page(make_course):
    course = make_course(status=CourseStatus.REGISTERING)
    assert course.code is None
    assert Client().get(reverse("courses:detail", args=["no-such-code"])).status_code == 404
