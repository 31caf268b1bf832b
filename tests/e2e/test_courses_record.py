"""Browser checks (issue 11 points 5 and 7): a teacher's 研習紀錄 and a school's 統計圖表, axe on
each page; the charts are drawn under the site's CSP (a violation fails the page fixture)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Person, Unit
from core.roc import academic_year, academic_year_bounds
from courses.choices import Domain
from courses.models import Course, CourseStatus, IssuedHours
from inservice.demo import DEMO_TOTP_SECRET, MAIN_SCHOOL, demo_national_id
from tests.e2e.conftest import assert_accessible, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def visit(page, control):
    with page.expect_navigation():
        control.click()
    assert_accessible(page)


def seed_hours():
    call_command("seed_demo")
    school = Unit.objects.get(code=MAIN_SCHOOL)
    start, _end = academic_year_bounds(academic_year(dt.date.today()))
    course = Course.objects.create(
        code="E2E0001",
        title="校園安全研習",
        organiser=school,
        authority=school.authority,
        start_date=start + dt.timedelta(days=20),
        end_date=start + dt.timedelta(days=20),
        hours=Decimal("6"),
        domain=Domain.LITERACY,
        status=CourseStatus.CONFIRMED,
    )
    person = Person.objects.by_national_id(demo_national_id("T12345678")).get()
    IssuedHours.objects.create(person=person, course=course, date=course.end_date, hours=Decimal("6"))


def test_teacher_reads_the_learning_record(page):
    seed_hours()
    sign_in(page, "teacher1")
    expect(page.get_by_role("navigation", name="主選單")).to_be_visible()
    visit(page, page.get_by_role("navigation", name="主選單").get_by_role("link", name="研習紀錄"))
    expect(page.get_by_role("heading", level=1)).to_have_text("研習紀錄")
    expect(page.get_by_role("table")).to_contain_text("校園安全研習")
    visit(page, page.get_by_role("link", name="列印版"))
    expect(page.get_by_role("table")).to_contain_text("E2E0001")
    page.goto("/certificates/verify/")
    assert_accessible(page)


def test_school_reads_the_charts(page):
    seed_hours()
    sign_in(page, "chief1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    visit(page, page.get_by_role("navigation", name="主選單").get_by_role("link", name="統計圖表"))
    expect(page.get_by_role("heading", level=1)).to_have_text("統計圖表")
    # Chart.js drew on every canvas (the canvas is unhidden by our script only).
    for key in ("hours-per-teacher", "hours-per-domain", "courses-per-month"):
        canvas = page.locator(f'canvas[data-chart="{key}"]')
        expect(canvas).to_be_visible()
        assert canvas.evaluate("c => Chart.getChart(c) !== undefined")
    expect(page.get_by_role("table").nth(1)).to_contain_text(re.compile("實用知能與生活素養"))
