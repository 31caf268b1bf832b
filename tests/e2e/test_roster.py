"""Browser journeys of the roster (issue 10), axe on every page: a teacher applies for an account and
edits the profile; a 總負責人 searches, filters, downloads, registers a newcomer and records a retirement."""

import re

import pytest
from celery import current_app
from django.core import mail
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from inservice.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_national_id
from teachers.models import AccountStatus, EndReason, Membership, RosterDownload, TeacherAccount
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_sign_in import sign_in
from tests.helpers import totp_code as current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _eager_tasks():
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


def heading(page, text):
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    assert_accessible(page)


def test_teacher_applies_for_an_account_and_edits_the_profile(page):
    call_command("seed_demo")
    nid = demo_national_id("T22345605")  # 黃淑芬, on the demo school's roster with an e-mail
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("banner").get_by_role("link", name="登入").click()
    heading(page, "登入")
    page.get_by_role("link", name="申請教師帳號").click()
    heading(page, "申請教師帳號")
    page.get_by_label("身分證字號或居留證號").fill(nid)
    page.get_by_label("姓名").fill("黃淑芬")
    page.get_by_label("使用者帳號").fill("huang")
    page.get_by_label("電子郵件").fill("t22345605@demo.inservice.example")
    page.get_by_label(re.compile("^密碼")).fill("short")
    page.get_by_label("確認密碼").fill("short")
    page.get_by_role("button", name="送出申請").click()
    expect(page.get_by_role("alert")).to_be_focused()
    assert_accessible(page)
    assert nid not in page.content()
    page.get_by_label("身分證字號或居留證號").fill(nid)
    page.get_by_label(re.compile("^密碼")).fill("a-long-enough-secret")
    page.get_by_label("確認密碼").fill("a-long-enough-secret")
    page.get_by_role("button", name="送出申請").click()
    heading(page, "申請已送出")
    assert nid not in page.url and not TeacherAccount.objects.filter(user__username="huang").exists()

    link = re.search(r"https?://\S+/teacher-account/activate/\S+/", mail.outbox[-1].body).group(0)
    assert mail.outbox[-1].to == ["t22345605@demo.inservice.example"]
    page.goto(link)
    heading(page, "啟用教師帳號")
    page.get_by_role("button", name="確認啟用").click()
    heading(page, "登入")
    expect(page.get_by_role("status")).to_contain_text("教師帳號已啟用")
    page.get_by_label("帳號或電子郵件").fill("huang")
    page.get_by_label("密碼").fill("a-long-enough-secret")
    page.get_by_role("button", name="登入").click()
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="修改個人基本資料").click()
    heading(page, "修改個人基本資料")
    expect(page.get_by_role("table", name="服務單位")).to_contain_text("110年8月1日")
    page.get_by_label("職稱").fill("導師")
    page.get_by_role("checkbox", name="數學").check()
    page.get_by_role("button", name="儲存").click()
    expect(page.get_by_role("status")).to_contain_text("已更新個人基本資料")
    assert_accessible(page)
    membership = Membership.objects.get(person__name="黃淑芬", end_date__isnull=True)
    assert membership.title == "導師"
    assert sorted(s.name for s in membership.subjects.all()) == ["數學", "英語文"]
    assert TeacherAccount.objects.get(user__username="huang").status == AccountStatus.ACTIVE


def test_chief_searches_filters_downloads_registers_and_records_a_retirement(page, tmp_path):
    call_command("seed_demo")
    sign_in(page, "chief1")
    page.get_by_label(re.compile("驗證碼|Code|代碼")).fill(current_code(DEMO_TOTP_SECRET))
    page.get_by_role("button", name=re.compile("登入|Sign In|驗證")).click()
    menu = page.get_by_role("navigation", name="主選單")
    menu.get_by_role("link", name="本單位教師帳號管理").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_text("學校總人數")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("王O明")

    page.get_by_label("教師姓名查詢").fill("歐陽")
    page.get_by_role("button", name="查詢").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_role("table")).to_contain_text("歐OO明")
    expect(page.get_by_role("table")).not_to_contain_text("王O明")

    page.get_by_label("教師姓名查詢").fill("")
    page.get_by_label("依任教科目篩選").select_option(label="數學")
    page.get_by_role("button", name="查詢").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_role("table")).to_contain_text("王O明")
    expect(page.get_by_role("table")).not_to_contain_text("歐OO明")

    page.get_by_label("依教育部統合視導篩選").check()
    page.get_by_role("button", name="查詢").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_role("table")).to_contain_text("李O國")  # no hours this year

    with page.expect_download() as info:
        page.get_by_role("link", name="資料下載").click()
    path = tmp_path / "roster.xlsx"
    info.value.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert demo_national_id("T12345678") in {row[0] for row in rows}
    assert RosterDownload.objects.count() == 1

    menu.get_by_role("link", name="教師資料登錄").click()
    heading(page, "教師資料登錄")
    page.get_by_label("身分證字號或居留證號").fill(
        demo_national_id("T22345607")
    )  # 周怡君, at the junior high
    page.get_by_label(re.compile("^姓名")).fill("周怡君")
    page.get_by_label("職稱").fill("教師")
    page.get_by_role("button", name="登錄").click()
    # Serving elsewhere: asked first, with the masked name and not the other school.
    heading(page, "教師資料登錄：確認轉入")
    expect(page.get_by_role("main")).to_contain_text("周O君")
    expect(page.get_by_role("main")).not_to_contain_text("屏東縣立示範國民中學")
    page.get_by_role("button", name="確認轉入本單位").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_role("status")).to_contain_text("並自其他單位轉入本單位；原單位已收到通知")
    moved = Membership.objects.filter(person__name="周怡君").order_by("start_date")
    assert [m.end_reason for m in moved] == [EndReason.TRANSFERRED, None]

    page.get_by_label("教師姓名查詢").fill("歐陽")
    page.get_by_role("button", name="查詢").click()
    page.get_by_role("link", name=re.compile("^檢視資料.*歐OO明")).click()
    heading(page, "編輯帳號個人資料")
    page.get_by_role("link", name=re.compile("^離職.轉校.退休.*歐OO明")).click()
    heading(page, "離職/轉校/退休")
    page.get_by_role("radio", name="退休").check()
    page.get_by_label("異動日期（最後服務日）").fill("2024-07-31")
    page.get_by_role("button", name="下一步").click()
    heading(page, "離職/轉校/退休")
    page.get_by_role("button", name="確認轉出").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_role("status")).to_contain_text("以「退休」轉出本單位教師名單")
    retired = Membership.objects.get(person__name="歐陽志明")
    assert retired.end_reason == EndReason.RETIRED and str(retired.end_date) == "2024-07-31"
    assert DEMO_PASSWORD  # the demo accounts share one password (README)
