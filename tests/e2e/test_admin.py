"""Browser journey: the operator in the Django admin (issue 9 point 21) and on the audit pages (point 4):
zh-Hant, ROC dates, no CSP violation (the page fixture fails on any console error) and axe on every page."""

import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Unit
from core.roc import format_roc_date
from inservice.demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_sign_in import sign_in
from tests.helpers import totp_code as current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN_PAGES = [
    ("/admin/", "網站管理"),
    ("/admin/accounts/unit/", "選擇 單位 來修改"),
    ("/admin/accounts/user/", "使用者帳號"),
    ("/admin/accounts/businessaccount/", "業務帳號"),
    ("/admin/accounts/person/", "人員"),
    ("/admin/accounts/securityevent/", "安全稽核紀錄"),
    ("/admin/auditlog/logentry/", ""),
    ("/admin/mfa/authenticator/", ""),
    ("/admin/teachers/membership/", ""),
]


def test_the_operator_uses_the_admin_in_zh_hant_with_roc_dates(page):
    call_command("seed_demo")
    sign_in(page, "operator1")
    page.get_by_label(re.compile("驗證碼|Code|代碼")).fill(current_code(DEMO_TOTP_SECRET))
    page.get_by_role("button", name=re.compile("登入|Sign In|驗證")).click()
    expect(page.get_by_role("navigation", name="主選單")).to_be_visible()

    today = format_roc_date(timezone.localdate())
    for path, text in ADMIN_PAGES:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
        if text:
            expect(page.locator("#content")).to_contain_text(text)
        assert_accessible(page)
    page.goto("/admin/accounts/user/")
    expect(page.locator("#result_list")).to_contain_text(today)

    # A change form (the only kind the operator edits here) and a read-only view.
    unit = Unit.objects.filter(kind="school").order_by("code").first()
    page.goto(f"/admin/accounts/unit/{unit.pk}/change/")
    assert_accessible(page)
    page.get_by_label("名稱").fill(unit.name + "（更名）")
    page.get_by_role("button", name="儲存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("成功")
    assert_accessible(page)
    page.goto("/admin/accounts/user/")
    page.get_by_role("link", name="operator1").click()
    expect(page.locator("#content")).to_contain_text(today)
    assert_accessible(page)

    # The portal's audit pages, where the admin change shows up.
    for name in ("管理後台異動紀錄", "安全稽核紀錄", "業務帳號異動紀錄"):
        page.goto("/")
        page.get_by_role("navigation", name="主選單").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        assert_accessible(page)
    page.goto("/operator/admin-log/")
    expect(page.get_by_role("table")).to_contain_text(unit.name + "（更名）")
    page.goto("/operator/security-log/")
    page.get_by_label("事件").select_option(label="登入成功")
    page.get_by_role("button", name="篩選").click()
    expect(page.get_by_role("table")).to_contain_text("operator1")
    assert_accessible(page)
