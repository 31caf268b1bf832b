"""Browser journeys of issue 18 points 4, 5 and 9: the participant list round trip (download, fill
the hours, upload back), 我的研習報名 with its confirmations, and the course tables at 375 px."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.models import Person, Unit, User
from courses import services
from courses.choices import Domain
from courses.models import AdmissionSkip, Course, CourseStatus, Enrolment, EnrolmentStatus, IssuedHours
from inservice.demo import DEMO_TOTP_SECRET, MAIN_SCHOOL, demo_national_id
from tests.e2e.conftest import AXE_JS, assert_accessible, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _tasks_in_process():
    # The live server runs in this process; its upload task runs here too, with Redis or without.
    from inservice.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def visit(page, control):
    with page.expect_navigation():
        control.click()
    assert_accessible(page)


def menu(page, label):
    visit(page, page.get_by_role("navigation", name="主選單").get_by_role("link", name=label))


def finished_course(title="防災教育實務研習") -> Course:
    """A 報名截止 course of the demo school that ended yesterday, teacher1 admitted."""
    school = Unit.objects.get(code=MAIN_SCHOOL)
    now = timezone.now()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    course = Course.objects.create(
        code=f"E2E-{title[:2]}",
        title=title,
        organiser=school,
        authority=school.authority,
        start_date=yesterday,
        end_date=yesterday,
        hours=Decimal("3"),
        domain=Domain.LITERACY,
        capacity=30,
        enrol_opens_at=now - dt.timedelta(days=10),
        enrol_closes_at=now - dt.timedelta(days=3),
        status=CourseStatus.CLOSED,
    )
    person = Person.objects.by_national_id(demo_national_id("T12345678")).get()
    Enrolment.objects.create(
        course=course, person=person, status=EnrolmentStatus.ADMITTED, applied_at=now, admitted_at=now
    )
    return course


def test_the_participant_list_goes_back_as_the_attendance_file(page, tmp_path):
    call_command("seed_demo")
    course = finished_course()
    sign_in(page, "clerk1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    menu(page, "研習課程管理/資料上傳")
    visit(page, page.get_by_role("link", name="防災教育實務研習"))
    visit(page, page.get_by_role("link", name="上傳出席資料"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("下載出席資料範本")).click()
    path = tmp_path / "participants.xlsx"
    download_info.value.save_as(path)

    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]][:6] == [
        "報名序號",
        "姓名",
        "服務學校",
        "報名狀態",
        "報名時間",
        "研習時數",
    ]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "王大明")
    assert row[5].value is None
    assert demo_national_id("T12345678") not in [str(c.value) for r in sheet.iter_rows() for c in r]
    row[5].value = 2.5
    workbook.save(path)

    page.get_by_label("出席資料檔（.xlsx 或 .csv）").set_input_files(str(path))
    page.get_by_role("button", name="上傳").click()
    expect(page.get_by_role("status")).to_contain_text("完成（100%）")
    assert_accessible(page)
    enrolment = course.enrolments.get()
    assert enrolment.attended_hours == Decimal("2.5")
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING
    assert not IssuedHours.objects.filter(course=course).exists()  # issued only at 名單確認通過


def test_teacher_sees_my_enrolments_and_is_asked_before_cancelling(page):
    call_command("seed_demo")
    teacher = User.objects.get(username="teacher1")
    course = Course.objects.get(code="DEMO-1130001")  # open for enrolment now
    services.enrolment_enrol(actor=teacher, course=course)
    sign_in(page, "teacher1")
    menu(page, "我的研習報名")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的研習報名")
    table = page.get_by_role("table")
    expect(table).to_contain_text("校園安全教育研習")
    expect(table).to_contain_text("錄取")
    # teacher1 is also 候補 第 2 位 of the demo's 審核錄取 course.
    expect(page.locator("tr", has_text="閱讀理解教學策略工作坊")).to_contain_text("候補（第 2 位）")
    row = page.locator("tr", has_text="校園安全教育研習")
    visit(page, row.get_by_role("link", name=re.compile("^取消報名")))
    expect(page.get_by_role("heading", level=1)).to_have_text("取消報名")
    assert course.enrolments.get(person=teacher.person).status == EnrolmentStatus.ADMITTED
    visit(page, page.get_by_role("button", name="確定取消報名"))
    expect(page.get_by_role("status")).to_contain_text("已取消報名")
    assert course.enrolments.get(person=teacher.person).status == EnrolmentStatus.CANCELLED


def _fits(page) -> None:
    """Nothing wider than the screen, and no table cell squeezed to a character per line."""
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    narrow = page.evaluate(
        """() => [...document.querySelectorAll('tbody td, tbody th')]
            .filter(c => c.offsetParent && c.textContent.trim().length > 3 && c.getBoundingClientRect().width < 48)
            .map(c => c.textContent.trim())"""
    )
    assert narrow == [], narrow


def test_course_tables_stack_at_phone_width(browser, live_server):
    call_command("seed_demo")
    finished_course()
    course = Course.objects.get(code="DEMO-1150004")  # confirmed 30 days ago, 3 hours for teacher1
    context = browser.new_context(
        base_url=live_server.url, locale="zh-TW", viewport={"width": 375, "height": 740}
    )
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/courses/?q=研習")
        expect(page.locator("#result-count")).to_be_focused()  # after a search, the count is read first
        expect(page.locator("#result-count")).to_contain_text("查詢結果共")
        _fits(page)
        assert_accessible(page)
        page.goto(f"/courses/?date_from={course.start_date.year - 1911}/{course.start_date.month}/1")
        assert_accessible(page)

        sign_in(page, "teacher1")
        page.goto("/me/learning-record/")
        expect(page.get_by_role("table")).to_contain_text("數位學習融入教學研習")
        _fits(page)
        assert_accessible(page)
        page.goto("/me/enrolments/")
        _fits(page)
        assert_accessible(page)
        page.get_by_role("button", name="登出").click()
        if page.get_by_role("button", name=re.compile("登出|Sign Out")).count():
            page.get_by_role("button", name=re.compile("登出|Sign Out")).click()

        sign_in(page, "clerk1")
        enter_totp_code(page, DEMO_TOTP_SECRET)
        page.goto("/unit/courses/")
        expect(page.get_by_role("table")).to_contain_text("防災教育實務研習")
        _fits(page)
        assert_accessible(page)
        page.goto("/unit/courses/new/")
        expect(page.get_by_label("上課開始日期")).to_have_attribute("inputmode", "text")
        assert_accessible(page)

        # 審核錄取 with its 略過紀錄: stacked like the other tables (header row hidden, labels shown).
        review = Course.objects.get(code="DEMO-1150003")
        waiting = review.enrolments.filter(status=EnrolmentStatus.WAITING).order_by("applied_at").first()
        AdmissionSkip.objects.create(
            course=review,
            skipped=waiting,
            reason="報名者來電表示當日無法出席，改錄取下一位候補者並於下次優先通知",
            decided_by=User.objects.get(username="clerk1"),
        )
        page.goto(f"/unit/courses/{review.pk}/admit/")
        skips = page.get_by_role("table", name="略過紀錄")
        expect(skips).to_contain_text("改錄取下一位候補者")
        expect(skips.locator("thead")).to_have_css("position", "absolute")
        expect(skips.locator("tbody td").first).to_have_css("display", "grid")
        _fits(page)
        assert_accessible(page)
    finally:
        context.close()
