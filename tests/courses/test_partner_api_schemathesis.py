"""The partner API against its own OpenAPI description (issue 18 point 8): schemathesis generates
requests from /api/partner/openapi.json, valid and invalid, and every answer must be no 500, a
documented status, the documented content type and body, and invalid data refused.

Kept small for CI (a few dozen examples per mode); raise PARTNER_SCHEMATHESIS_EXAMPLES locally for
a longer run."""

import datetime as dt
import os
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from courses import partners
from courses.models import Course, CourseStatus, IssuedHours

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PARTNER_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def schema():
    # As Django's test client does: a request through the WSGI handler must not close the test's
    # database connection (its transaction holds the test data).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/partner/openapi.json", get_wsgi_application())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(university, operator):
    # A real course of the partner, so generated records can reach the service's own checks.
    Course.objects.create(
        code="P0001",
        title="合作平臺課程",
        organiser=university,
        start_date=dt.date(2025, 9, 1),
        end_date=dt.date(2025, 9, 2),
        hours=Decimal("2"),
        status=CourseStatus.CONFIRMED,
    )
    return partners.credential_issue(actor=operator, unit=university)[1]


def run(schema, token, mode, checks):
    operation = schema["/api/partner/hours"]["POST"]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases every run: CI does not flake
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)

    check()


@override_settings(PARTNER_API_RATE_PER_MINUTE=100_000)
def test_valid_requests_get_documented_answers(schema, token):
    run(schema, token, GenerationMode.POSITIVE, CHECKS)
    # Whatever was generated, no person holds more than the course's hours.
    assert sum(h.hours for h in IssuedHours.objects.all()) <= Decimal("2") * max(
        1, IssuedHours.objects.values("person").distinct().count()
    )


@override_settings(PARTNER_API_RATE_PER_MINUTE=100_000)
def test_invalid_requests_are_refused_with_documented_answers(schema, token):
    run(schema, token, GenerationMode.NEGATIVE, [*CHECKS, negative_data_rejection])


@pytest.mark.parametrize("path", ["/api/open-data/courses.json", "/api/open-data/courses.csv"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_open_data_catalogue_answers_as_documented(schema, school, path, mode):
    """The public catalogue (issue 23 point 5) is in the same document and kept to it."""
    Course.objects.create(
        code="OD001", title="開放資料課程", organiser=school, hours=Decimal("3"), status=CourseStatus.OPEN
    )
    operation = schema[path]["GET"]
    checks = CHECKS if mode == GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection]

    @settings(
        max_examples=max(10, EXAMPLES // 4),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(checks=checks)

    check()
