"""Certificates follow corrections (issue 18 point 3, SPEC §5): a 更正 of hours supersedes the
course's certificate and its year's; the old code says so, with the date (ROC), and shows the
current figures; the teacher's new PDF carries a new code. A year certificate lists its courses
and says 截至 which date; a later change of that year's hours supersedes it the same way."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.roc import format_roc_date
from courses import certificates, services
from courses.models import Certificate, Enrolment, EnrolmentStatus, IssuedHours
from tests.courses.test_record import confirmed_course, issue, need_font
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def verify_page(code: str) -> str:
    return Client().post(reverse("courses:certificate-verify"), {"code": code}).content.decode()


def pdf_for(teacher, **data) -> Certificate:
    response = signed_in_client(teacher).post(reverse("courses:certificate"), data)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    code = response["Content-Disposition"].split("certificate-")[1].split(".pdf")[0]
    return Certificate.objects.get(code=code)


@pytest.fixture
def three_hours(teacher, school):
    """A confirmed 3-hour course of the academic year 114 that the teacher attended in full."""
    course = confirmed_course(school, "COR1", dt.date(2025, 10, 1), hours="3")
    Enrolment.objects.create(
        course=course,
        person=teacher.person,
        status=EnrolmentStatus.ADMITTED,
        applied_at=timezone.now(),
        attended_hours=Decimal("3"),
    )
    issue(teacher.person, course)
    return course


def correct(clerk, centre, course, person, hours):
    enrolment = Enrolment.objects.get(course=course, person=person)
    correction = services.correction_request(
        actor=clerk, course=course, enrolment=enrolment, hours_after=Decimal(hours), reason="簽到表誤植"
    )
    return services.correction_decide(actor=centre, correction=correction, approve=True)


def test_a_correction_supersedes_the_course_certificate_and_the_new_pdf_has_a_new_code(
    teacher, clerk, centre, three_hours
):
    need_font()
    old = pdf_for(teacher, course=three_hours.pk)
    assert old.hours == Decimal("3")
    assert "查驗結果：本證明為本網開立" in verify_page(old.code)

    correct(clerk, centre, three_hours, teacher.person, "2")

    html = verify_page(certificates.display_code(old.code))
    today = format_roc_date(timezone.localdate())
    assert "本證明為本網開立" not in html
    assert "查驗結果：本證明已被取代" in html
    assert f"已於 {today} 變更" in html
    assert "目前研習時數</dt><dd>2 小時" in html
    assert "原證明所載時數</dt><dd>3 小時" in html

    new = pdf_for(teacher, course=three_hours.pk)
    assert new.code != old.code and new.hours == Decimal("2") and new.superseded_at is None
    assert "查驗結果：本證明為本網開立" in verify_page(new.code)
    # Asking again with unchanged figures gives the same certificate, not another code.
    assert pdf_for(teacher, course=three_hours.pk).code == new.code


def test_a_correction_supersedes_the_year_certificate_too(teacher, clerk, centre, three_hours):
    need_font()
    year_cert = pdf_for(teacher, year=114)
    correct(clerk, centre, three_hours, teacher.person, "2")
    year_cert.refresh_from_db()
    assert year_cert.superseded_at is not None
    facts = certificates.verify(year_cert.code)
    assert facts["superseded"] == format_roc_date(timezone.localdate())
    assert facts["current"]["hours"] == "2"
    assert [line["hours"] for line in facts["current"]["lines"]] == ["2"]


def test_a_rejected_correction_supersedes_nothing(teacher, clerk, centre, three_hours):
    need_font()
    cert = pdf_for(teacher, course=three_hours.pk)
    enrolment = Enrolment.objects.get(course=three_hours, person=teacher.person)
    correction = services.correction_request(
        actor=clerk, course=three_hours, enrolment=enrolment, hours_after=Decimal("1"), reason="x"
    )
    services.correction_decide(actor=centre, correction=correction, approve=False)
    assert certificates.verify(cert.code)["superseded"] is None
    assert "查驗結果：本證明為本網開立" in verify_page(cert.code)


def test_the_year_certificate_lists_its_courses_and_says_as_of_which_date(teacher, school, three_hours):
    need_font()
    other = confirmed_course(school, "COR2", dt.date(2026, 3, 2), hours="1.5")
    issue(teacher.person, other)
    cert = pdf_for(teacher, year=114)
    assert cert.as_of == timezone.localdate()
    assert [line[0] for line in cert.lines] == ["COR1", "COR2"]
    html = verify_page(cert.code)
    today = format_roc_date(timezone.localdate())
    assert f"截至 {today}" in html
    assert "COR1" in html and "COR2" in html and "4.5 小時" in html
    assert "115年3月2日" in html  # the course's date, in ROC


def test_later_hours_of_the_same_year_supersede_the_year_certificate_as_of_their_date(
    teacher, school, three_hours
):
    need_font()
    cert = pdf_for(teacher, year=114)
    later = confirmed_course(school, "LATE", dt.date(2026, 5, 4), hours="2")
    record = issue(teacher.person, later)
    # Issued (say, pushed by a partner platform) two days after the certificate.
    when = cert.issued_at + dt.timedelta(days=2)
    IssuedHours.objects.filter(pk=record.pk).update(issued_at=when)
    facts = certificates.verify(cert.code)
    assert facts["superseded"] == format_roc_date(timezone.localtime(when).date())
    assert facts["current"]["hours"] == "5"
    assert [line["code"] for line in facts["current"]["lines"]] == ["COR1", "LATE"]
    # Hours of another academic year leave it alone.
    fresh = pdf_for(teacher, year=114)
    issue(teacher.person, confirmed_course(school, "NEXT", dt.date(2026, 8, 3), hours="2"))
    assert certificates.verify(fresh.code)["superseded"] is None
    assert fresh.code != cert.code
