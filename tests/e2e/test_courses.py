"""Browser journey (issue 11): a 作業人員 opens a course, a teacher finds it and enrols, the unit
uploads attendance and confirms the list; axe on every page."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from courses.models import Course, CourseStatus, IssuedHours
from inservice.demo import DEMO_TOTP_SECRET, demo_national_id
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_sign_in import sign_in
from tests.helpers import totp_code as current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _tasks_in_process():
    # The live server runs in this process; its upload task runs here too, with Redis or without.
    from inservice.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def second_factor(page):
    page.get_by_label(re.compile("驗證碼|Code|代碼")).fill(current_code(DEMO_TOTP_SECRET))
    page.get_by_role("button", name=re.compile("登入|Sign In|驗證")).click()


def sign_out(page):
    page.get_by_role("button", name="登出").click()
    if page.get_by_role("button", name=re.compile("登出|Sign Out")).count():
        page.get_by_role("button", name=re.compile("登出|Sign Out")).click()


def visit(page, control):
    """Click a link or button that loads a page, wait for the new page, then run axe on it."""
    with page.expect_navigation():
        control.click()
    assert_accessible(page)


def menu(page, label):
    visit(page, page.get_by_role("navigation", name="主選單").get_by_role("link", name=label))


def test_clerk_opens_teacher_enrols_unit_uploads_and_confirms(page, tmp_path):
    call_command("seed_demo")
    now = timezone.localtime()
    start = (now + dt.timedelta(days=14)).date()

    sign_in(page, "clerk1")
    assert_accessible(page)
    second_factor(page)
    menu(page, "研習課程登錄")
    page.get_by_label("課程名稱").fill("防災教育實務研習")
    page.get_by_label("上課開始日期").fill(start.isoformat())
    page.get_by_label("上課結束日期").fill(start.isoformat())
    page.get_by_role("spinbutton", name=re.compile("^研習時數")).fill("3")
    page.get_by_label("開課地點").fill("示範國小 會議室")
    page.get_by_role("radio", name="實用知能與生活素養").check()
    page.get_by_role("checkbox", name="安全教育").check()
    page.get_by_role("spinbutton", name=re.compile("^名額")).fill("30")
    page.get_by_label("報名開始時間").fill((now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("報名截止時間").fill((now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="儲存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("防災教育實務研習")
    assert_accessible(page)
    visit(page, page.get_by_role("link", name="開放報名"))
    page.get_by_role("button", name="確認開放報名").click()
    expect(page.get_by_role("status")).to_contain_text("已開放報名")
    assert_accessible(page)
    course = Course.objects.get(title="防災教育實務研習")
    assert course.status == CourseStatus.OPEN and course.code
    sign_out(page)

    sign_in(page, "teacher1")
    menu(page, "研習課程查詢")
    page.get_by_label("課程名稱關鍵字").fill("防災")
    page.get_by_label("只顯示目前開放報名的課程").check()
    visit(page, page.get_by_role("button", name="查詢"))
    page.get_by_role("link", name="防災教育實務研習").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("防災教育實務研習")
    assert_accessible(page)
    page.get_by_role("button", name="我要報名").click()
    expect(page.get_by_role("status")).to_contain_text("報名完成，目前狀態：錄取")
    assert_accessible(page)
    sign_out(page)

    sign_in(page, "contact1")
    second_factor(page)
    menu(page, "研習課程管理/資料上傳")
    visit(page, page.get_by_role("link", name="防災教育實務研習"))
    visit(page, page.get_by_role("link", name="報名截止"))
    page.get_by_role("button", name="確認報名截止").click()
    expect(page.get_by_role("status")).to_contain_text("已截止報名")
    # Two weeks later the course has happened (attendance only from its last day on).
    start = timezone.localdate() - dt.timedelta(days=1)
    Course.objects.filter(title="防災教育實務研習").update(start_date=start, end_date=start)
    page.reload()
    visit(page, page.get_by_role("link", name="上傳出席資料"))
    attendance = tmp_path / "attendance.csv"
    attendance.write_text(f"national_id,hours\n{demo_national_id('T12345678')},3\n", encoding="utf-8")
    page.get_by_label("出席資料檔（.xlsx 或 .csv）").set_input_files(str(attendance))
    page.get_by_role("button", name="上傳").click()
    expect(page.get_by_role("status")).to_contain_text("完成（100%）")
    assert_accessible(page)
    page.get_by_role("link", name="回課程管理").click()
    visit(page, page.get_by_role("link", name="名單確認通過"))
    page.get_by_role("button", name="確認名單確認通過並核發研習時數").click()
    expect(page.get_by_role("status")).to_contain_text("名單確認通過")
    assert_accessible(page)

    record = IssuedHours.objects.get(course=course)
    assert record.person.name == "王大明"
    assert (record.hours, record.date) == (Decimal("3"), start)
