"""Partner hours API (issue 11 point 6), exercised over HTTP against the running server."""

import datetime as dt
import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from courses import partners
from courses.models import Course, CourseStatus, HoursSource, IssuedHours, PartnerCredential
from courses.services import CourseError

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def call_full(live_server, body, token=None, path="/api/partner/hours", method="POST"):
    """(status, headers, decoded JSON body) of one call."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(live_server.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


def call(live_server, body, token=None, path="/api/partner/hours"):
    status, _, decoded = call_full(live_server, body, token, path)
    return status, decoded


def make_course(unit, code):
    return Course.objects.create(
        code=code,
        title="合作平臺課程",
        organiser=unit,
        start_date=dt.date(2025, 9, 1),
        end_date=dt.date(2025, 9, 2),
        hours=Decimal("6"),
        status=CourseStatus.CONFIRMED,
    )


@pytest.fixture
def partner(university, operator):
    credential, token = partners.credential_issue(actor=operator, unit=university)
    return credential, token


@pytest.fixture
def course(university):
    return make_course(university, "P0001")


def record(course, person, **overrides):
    fields = {
        "course_code": course.code,
        "national_id": person.reveal_national_id(),
        "name": person.name,
        "date": "2025-09-01",
        "hours": 3,
    }
    fields.update(overrides)
    return fields


def test_a_missing_credential_is_refused(live_server, course, teacher):
    status, body = call(live_server, {"records": [record(course, teacher.person)]})
    assert status == 401
    assert not IssuedHours.objects.exists()


def test_a_revoked_credential_is_refused(live_server, partner, course, teacher, operator):
    credential, token = partner
    partners.credential_revoke(actor=operator, credential=credential)
    status, _ = call(live_server, {"records": [record(course, teacher.person)]}, token)
    assert status == 401
    assert not IssuedHours.objects.exists()


def test_a_wrong_token_is_refused(live_server, partner, course, teacher):
    status, _ = call(live_server, {"records": [record(course, teacher.person)]}, partner[1] + "x")
    assert status == 401


def test_a_good_batch_issues_hours_as_partner_hours(live_server, partner, course, teacher):
    status, body = call(live_server, {"records": [record(course, teacher.person)]}, partner[1])
    assert (status, body) == (200, {"created": 1, "unchanged": 0})
    row = IssuedHours.objects.get()
    assert (row.person, row.course, row.hours, row.source) == (
        teacher.person,
        course,
        Decimal("3"),
        HoursSource.PARTNER,
    )


def test_another_partners_course_is_refused(live_server, partner, teacher, school):
    someone_elses = make_course(school, "S0001")
    status, body = call(live_server, {"records": [record(someone_elses, teacher.person)]}, partner[1])
    assert status == 422
    assert body["errors"] == [{"index": 0, "reasons": [partners.R_COURSE]}]
    assert not IssuedHours.objects.exists()


def test_a_batch_with_bad_records_is_refused_whole_with_reasons_and_no_ids(
    live_server, partner, course, teacher
):
    good = record(course, teacher.person)
    bad_id = record(course, teacher.person, national_id="A123456788")
    bad_hours_and_date = record(course, teacher.person, hours=7, date="2025-10-01")
    status, body = call(live_server, {"records": [good, bad_id, bad_hours_and_date]}, partner[1])
    assert status == 422
    assert body["errors"] == [
        {"index": 1, "reasons": [partners.R_NATIONAL_ID]},
        {"index": 2, "reasons": [partners.R_DATE, partners.R_HOURS]},
    ]
    text = json.dumps(body, ensure_ascii=False)
    assert teacher.person.reveal_national_id() not in text and "A123456788" not in text
    assert not IssuedHours.objects.exists()


def test_a_malformed_body_is_refused_without_echoing_it(live_server, partner):
    status, body = call(live_server, {"records": [{"national_id": ["A123456789"]}]}, partner[1])
    assert status == 422
    assert "A123456789" not in json.dumps(body)


def test_a_resend_changes_nothing(live_server, partner, course, teacher):
    batch = {"records": [record(course, teacher.person), record(course, teacher.person, date="2025-09-02")]}
    assert call(live_server, batch, partner[1]) == (200, {"created": 2, "unchanged": 0})
    before = list(IssuedHours.objects.order_by("pk").values())

    assert call(live_server, batch, partner[1]) == (200, {"created": 0, "unchanged": 2})
    assert list(IssuedHours.objects.order_by("pk").values()) == before


def test_a_resend_with_other_hours_is_a_conflict_and_changes_nothing(live_server, partner, course, teacher):
    call(live_server, {"records": [record(course, teacher.person)]}, partner[1])
    status, body = call(live_server, {"records": [record(course, teacher.person, hours=4)]}, partner[1])
    assert status == 422 and body["errors"][0]["reasons"] == [partners.R_CONFLICT]
    assert IssuedHours.objects.get().hours == Decimal("3")


def test_duplicates_inside_a_batch_are_refused(live_server, partner, course, teacher):
    status, body = call(
        live_server, {"records": [record(course, teacher.person), record(course, teacher.person)]}, partner[1]
    )
    assert status == 422 and body["errors"] == [{"index": 1, "reasons": [partners.R_DUPLICATE]}]


@override_settings(PARTNER_API_RATE_PER_MINUTE=2)
def test_calls_are_rate_limited_per_credential(live_server, partner, course, teacher, far_school, operator):
    statuses = [
        call(live_server, {"records": [record(course, teacher.person)]}, partner[1])[0] for _ in range(5)
    ]
    assert 429 in statuses
    # Another partner's credential has its own allowance.
    _, other_token = partners.credential_issue(actor=operator, unit=far_school)
    other_course = make_course(far_school, "F0001")
    assert call(live_server, {"records": [record(other_course, teacher.person)]}, other_token)[0] == 200


def test_the_openapi_description_and_its_page_are_served(live_server):
    with urllib.request.urlopen(live_server.url + "/api/partner/openapi.json", timeout=10) as response:
        schema = json.loads(response.read())
    assert "/api/partner/hours" in schema["paths"]
    assert "post" in schema["paths"]["/api/partner/hours"]
    with urllib.request.urlopen(live_server.url + "/api/partner/docs/", timeout=10) as response:
        page = response.read().decode()
    assert "/api/partner/hours" in page and "<script" not in page.split("</header>")[-1].split("<footer")[0]


def test_the_token_is_stored_only_as_a_hash(partner):
    credential, token = partner
    stored = PartnerCredential.objects.filter(pk=credential.pk).values().get()
    assert token not in json.dumps(stored, default=str)
    assert partners.authenticate(token) == credential


def test_one_live_credential_per_unit_and_only_the_operator_issues(partner, university, operator, clerk):
    with pytest.raises(CourseError):
        partners.credential_issue(actor=operator, unit=university)
    with pytest.raises(PermissionDenied):
        partners.credential_issue(actor=clerk, unit=university)
    with pytest.raises(PermissionDenied):
        partners.credential_revoke(actor=clerk, credential=partner[0])
    assert PartnerCredential.objects.filter(revoked_at__isnull=True).count() == 1
