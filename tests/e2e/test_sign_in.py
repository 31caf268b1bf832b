"""Browser journeys: the demo accounts sign in through the real pages (SPEC §3.3, §10)."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from inservice.demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import assert_accessible, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_demo_teacher_signs_in_and_sees_the_teacher_menu(page):
    call_command("seed_demo")
    sign_in(page, "teacher1")
    menu = page.get_by_role("navigation", name="主選單")
    for label in ("修改個人基本資料", "研習紀錄", "教師自我進修規劃", "獎勵查詢"):
        expect(menu.get_by_role("link", name=label)).to_be_visible()
    expect(menu.get_by_role("link", name="本單位業務帳號管理")).to_have_count(0)
    expect(page.get_by_text("王大明（教師）")).to_be_visible()
    assert_accessible(page)
    menu.get_by_role("link", name="修改個人基本資料").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("修改個人基本資料")
    assert_accessible(page)


def test_demo_chief_signs_in_with_a_second_factor(page):
    call_command("seed_demo")
    sign_in(page, "chief1")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert_accessible(page)
    enter_totp_code(page, DEMO_TOTP_SECRET)
    menu = page.get_by_role("navigation", name="主選單")
    expect(menu.get_by_role("link", name="本單位業務帳號管理")).to_be_visible()
    assert_accessible(page)


def test_skip_link_moves_focus_to_the_main_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要內容")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
