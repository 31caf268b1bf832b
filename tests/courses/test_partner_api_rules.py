"""The partner API's limits (issue 16 points 7 and 8) and its answers as its spec says (issue 18
point 8): each test performs the attack and fails if it works."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from courses import api as partner_api
from courses import partners, states
from courses.models import Course, CourseStatus, HoursSource, IssuedHours
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/partner/hours"


@pytest.fixture
def token(university, operator):
    return partners.credential_issue(actor=operator, unit=university)[1]


@pytest.fixture
def credential(token):
    return partners.authenticate(token)


def make_course(unit, code="P0002", *, start=dt.date(2025, 9, 1), end=dt.date(2025, 10, 31), hours="2"):
    return Course.objects.create(
        code=code,
        title="合作平臺課程",
        organiser=unit,
        start_date=start,
        end_date=end,
        hours=Decimal(hours),
        status=CourseStatus.CONFIRMED,
    )


def record(course, person, day, hours=2, **overrides):
    fields = {
        "course_code": course.code,
        "national_id": person.reveal_national_id(),
        "name": person.name,
        "date": day.isoformat() if isinstance(day, dt.date) else day,
        "hours": hours,
    }
    fields.update(overrides)
    return fields


def post(client, token, body):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_problem(response, status, code):
    """The documented error shape: JSON with a code, a zh-Hant detail and a list of errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["errors"], list)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body["detail"]  # zh-Hant text
    return body


# 16.7: never more hours than the course has --------------------------------------------------------


def test_61_daily_records_for_a_2_hour_course_in_one_batch_issue_nothing(client, token, university, teacher):
    course = make_course(university)
    days = [course.start_date + dt.timedelta(days=n) for n in range(61)]
    response = post(client, token, {"records": [record(course, teacher.person, day) for day in days]})
    body = assert_problem(response, 422, partner_api.CODE_REFUSED)
    assert all(partners.R_OVER_COURSE in error["reasons"] for error in body["errors"])
    assert not IssuedHours.objects.exists()


@override_settings(PARTNER_API_RATE_PER_MINUTE=1000)  # the cap is under test, not the limiter
def test_61_daily_records_one_call_each_never_pass_the_course_hours(client, token, university, teacher):
    course = make_course(university)
    responses = [
        post(
            client, token, {"records": [record(course, teacher.person, course.start_date + dt.timedelta(n))]}
        )
        for n in range(61)
    ]
    assert responses[0].status_code == 200
    for response in responses[1:]:
        assert response.status_code == 422
        assert response.json()["errors"] == [{"index": 0, "reasons": [partners.R_OVER_COURSE]}]
    issued = sum(h.hours for h in IssuedHours.objects.filter(person=teacher.person, course=course))
    assert issued == Decimal("2")


def test_partner_hours_add_to_the_course_s_own_hours_under_the_one_cap(credential, university, teacher):
    course = make_course(university)
    IssuedHours.objects.create(
        person=teacher.person, course=course, date=course.start_date, hours=Decimal("1.5")
    )
    with pytest.raises(partners.BatchRefused) as refused:
        partners.partner_hours_submit(
            credential=credential, records=[record(course, teacher.person, course.end_date, hours=1)]
        )
    assert refused.value.errors == [{"index": 0, "reasons": [partners.R_OVER_COURSE]}]
    result = partners.partner_hours_submit(
        credential=credential, records=[record(course, teacher.person, course.end_date, hours=0.5)]
    )
    assert result.created == 1
    assert sum(h.hours for h in IssuedHours.objects.filter(course=course)) == Decimal("2")


def test_a_resend_of_issued_records_is_unchanged_not_counted_twice(credential, university, teacher):
    course = make_course(university)
    batch = [
        record(course, teacher.person, course.start_date, hours=1),
        record(course, teacher.person, course.end_date, hours=1),
    ]
    assert partners.partner_hours_submit(credential=credential, records=batch).created == 2
    assert partners.partner_hours_submit(credential=credential, records=batch).unchanged == 2


def test_a_date_after_today_is_refused_even_inside_the_course(client, token, university, teacher):
    today = timezone.localdate()
    course = make_course(university, start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=5))
    tomorrow = record(course, teacher.person, today + dt.timedelta(days=1), hours=1)
    body = assert_problem(post(client, token, {"records": [tomorrow]}), 422, partner_api.CODE_REFUSED)
    assert body["errors"] == [{"index": 0, "reasons": [partners.R_DATE]}]
    assert (
        post(client, token, {"records": [record(course, teacher.person, today, hours=1)]}).status_code == 200
    )


@pytest.mark.parametrize("day", ["2025-08-31", "2025-11-01", "2025-13-01", "yesterday"])
def test_a_date_outside_the_course_is_refused(client, token, university, teacher, day):
    course = make_course(university)
    body = assert_problem(
        post(client, token, {"records": [record(course, teacher.person, day)]}), 422, partner_api.CODE_REFUSED
    )
    assert body["errors"] == [{"index": 0, "reasons": [partners.R_DATE]}]
    assert not IssuedHours.objects.exists()


def test_a_course_without_dates_takes_no_hours(client, token, university, teacher):
    course = make_course(university, start=None, end=None)
    response = post(client, token, {"records": [record(course, teacher.person, "2025-09-01")]})
    assert_problem(response, 422, partner_api.CODE_REFUSED)
    assert not IssuedHours.objects.exists()


# 16.8: an ID alone confirms nothing --------------------------------------------------------------


def test_an_id_with_another_name_gets_the_same_one_reason_as_an_unknown_id(
    client, token, university, teacher
):
    course = make_course(university)
    stranger = UserFactory().person  # on no roster of this partner, but a real person
    wrong_name = record(course, teacher.person, course.start_date, name=teacher.person.name + "甲")
    no_name = record(course, stranger, course.start_date, name="")
    unknown = record(course, teacher.person, course.start_date, national_id="B123456780", name="王小明")
    body = assert_problem(
        post(client, token, {"records": [wrong_name, no_name, unknown]}), 422, partner_api.CODE_REFUSED
    )
    assert [error["reasons"] for error in body["errors"]] == [[partners.R_PERSON]] * 3
    assert not IssuedHours.objects.exists()


def test_a_record_without_a_name_is_malformed(client, token, university, teacher):
    course = make_course(university)
    nameless = record(course, teacher.person, course.start_date)
    del nameless["name"]
    assert_problem(post(client, token, {"records": [nameless]}), 422, "invalid_request")


# 18.8 and 16.8: strict types, no 500 -------------------------------------------------------------


@pytest.mark.parametrize("field", ["course_code", "national_id", "name", "date"])
def test_a_nul_or_control_character_in_a_text_field_is_malformed_not_a_500(
    client, token, university, teacher, field
):
    # PostgreSQL text cannot hold NUL: schemathesis found the 500 this used to answer.
    course = make_course(university)
    bad = record(course, teacher.person, course.start_date)
    bad[field] = bad[field] + "\x00"
    assert_problem(post(client, token, {"records": [bad]}), 422, "invalid_request")
    assert not IssuedHours.objects.exists()


@pytest.mark.parametrize("hours", [True, "2", "1e27", 1e27, 10**30, 0, -1, None, [2], {"h": 2}])
def test_hours_must_be_a_positive_json_number(client, token, university, teacher, hours):
    course = make_course(university)
    response = post(
        client, token, {"records": [record(course, teacher.person, course.start_date, hours=hours)]}
    )
    assert_problem(response, 422, "invalid_request")
    assert not IssuedHours.objects.exists()


@pytest.mark.parametrize("raw", ['{"records": [{"hours": NaN}]}', '{"records": [{"hours": Infinity}]}'])
def test_nan_and_infinity_are_refused(client, token, raw):
    assert_problem(post(client, token, raw), 422, "invalid_request")


def test_hours_with_two_decimals_are_refused_per_record(client, token, university, teacher):
    course = make_course(university)
    response = post(
        client, token, {"records": [record(course, teacher.person, course.start_date, hours=0.25)]}
    )
    body = assert_problem(response, 422, partner_api.CODE_REFUSED)
    assert body["errors"] == [{"index": 0, "reasons": [partners.R_HOURS]}]


def test_the_service_refuses_huge_and_non_numeric_hours_without_an_exception(credential, university, teacher):
    course = make_course(university)
    for hours in ["1e27", 1e27, True, "3", Decimal("1E+400")]:
        with pytest.raises(partners.BatchRefused):
            partners.partner_hours_submit(
                credential=credential,
                records=[record(course, teacher.person, course.start_date, hours=hours)],
            )


def test_a_good_record_with_an_integer_or_decimal_number_is_issued(client, token, university, teacher):
    course = make_course(university)
    response = post(
        client,
        token,
        {
            "records": [
                record(course, teacher.person, course.start_date, hours=1),
                record(course, teacher.person, course.end_date, hours=0.5),
            ]
        },
    )
    assert response.status_code == 200 and response.json() == {"created": 2, "unchanged": 0}
    assert {h.hours for h in IssuedHours.objects.filter(source=HoursSource.PARTNER)} == {
        Decimal("1"),
        Decimal("0.5"),
    }


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"not json", b'{"records": [}'])
def test_bad_json_answers_400_in_the_documented_shape(client, token, raw):
    assert_problem(post(client, token, raw), 400, "bad_request")


def test_an_unauthenticated_call_answers_401_in_the_documented_shape(client):
    response = client.post(URL, data="{}", content_type="application/json")
    assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_other_methods_answer_405_in_the_documented_shape(client, method):
    response = getattr(client, method)(URL)
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


@override_settings(PARTNER_API_RATE_PER_MINUTE=2)
def test_429_carries_retry_after_and_the_documented_shape(client, token, university, teacher):
    course = make_course(university)
    batch = {"records": [record(course, teacher.person, course.start_date)]}
    responses = [post(client, token, batch) for _ in range(3)]
    assert [r.status_code for r in responses[:2]] == [200, 200]
    assert_problem(responses[2], 429, "too_many_requests")
    assert 1 <= int(responses[2]["Retry-After"]) <= 60
    # Bad calls count too: a credential cannot probe past the limit with malformed bodies.
    assert post(client, token, b"{").status_code == 429


def test_the_limiter_is_django_ninjas_throttling():
    from ninja.throttling import SimpleRateThrottle

    assert any(isinstance(t, SimpleRateThrottle) for t in partner_api.api.throttle)
    assert not hasattr(partner_api, "_rate_limit")  # the hand-written counter is gone


# issue 17 point 3: the states a partner may send hours in are courses.states' "partner_hours" row


@pytest.mark.parametrize("status", CourseStatus.values)
def test_partner_hours_are_accepted_exactly_in_the_table_s_states(credential, university, teacher, status):
    course = make_course(university)
    Course.objects.filter(pk=course.pk).update(status=status)
    batch = [record(course, teacher.person, course.start_date)]
    if states.allows("partner_hours", status):
        partners.partner_hours_submit(credential=credential, records=batch)
        assert IssuedHours.objects.filter(course=course, person=teacher.person).count() == 1
    else:
        with pytest.raises(partners.BatchRefused) as refused:
            partners.partner_hours_submit(credential=credential, records=batch)
        assert partners.R_COURSE_STATE in refused.value.errors[0]["reasons"]
        assert not IssuedHours.objects.filter(course=course).exists()
    assert states.ACTIONS["partner_hours"].from_states == set(CourseStatus.values) - {
        CourseStatus.REGISTERING,
        CourseStatus.CANCELLED,
    }
