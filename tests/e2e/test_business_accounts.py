"""Browser journey: a school's 總負責人 enables a 連絡人 who applied (SPEC §3.2), axe on every page."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import BusinessAccount, BusinessAccountStatus
from inservice.demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import assert_accessible, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_applicant_applies_and_chief_enables_the_contact(page):
    call_command("seed_demo")
    page.goto("/directory/")
    assert_accessible(page)
    page.get_by_role("link", name="申請業務帳號").click()
    assert_accessible(page)
    page.get_by_label("單位代碼").fill("134601")
    page.get_by_role("radio", name="連絡人").check()
    page.get_by_label("身分證字號或居留證號").fill("B123456789")  # bad check digit
    page.get_by_label("姓名").fill("何志遠")
    page.get_by_label("電子郵件").fill("he@example.org")
    page.get_by_label("聯絡電話").fill("08-7654321")
    page.get_by_label("使用者帳號").fill("contact2")
    page.get_by_label(re.compile("^密碼")).fill("short")
    page.get_by_label("確認密碼").fill("short")
    page.get_by_role("button", name="送出申請").click()
    # Errors are summarised at the top, focused, and linked to their fields.
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("檢查碼不正確")
    assert_accessible(page)
    page.get_by_label("身分證字號或居留證號").fill("B123456780")
    page.get_by_label(re.compile("^密碼")).fill("a-long-enough-secret")
    page.get_by_label("確認密碼").fill("a-long-enough-secret")
    page.get_by_role("button", name="送出申請").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請已送出")
    assert_accessible(page)
    account = BusinessAccount.objects.get(username="contact2")
    assert account.status == BusinessAccountStatus.PENDING

    sign_in(page, "chief1")
    assert_accessible(page)
    enter_totp_code(page, DEMO_TOTP_SECRET)
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="本單位業務帳號管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("本單位業務帳號管理")
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text="contact2")
    expect(row).to_contain_text("待啟用")
    row.get_by_role("link", name="啟用 contact2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("啟用業務帳號")
    assert_accessible(page)
    page.get_by_role("button", name="確認啟用").click()
    expect(page.get_by_role("status")).to_contain_text("已啟用 contact2 的業務帳號")
    expect(page.get_by_role("row").filter(has_text="contact2")).to_contain_text("啟用中")
    assert_accessible(page)
    account.refresh_from_db()
    assert account.status == BusinessAccountStatus.ACTIVE
