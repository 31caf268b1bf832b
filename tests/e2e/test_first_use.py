"""Browser journey of a first-time user (issue 9, points 15-18), at desktop and at phone width
(375 px), with axe on every page and no sideways scrolling of the page at either width."""

import re
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.authorities import AUTHORITIES
from accounts.models import BusinessAccount, Unit, UnitKind
from inservice.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.e2e.conftest import AXE_JS, assert_accessible
from tests.helpers import totp_code as current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 800}}


@pytest.fixture(params=sorted(WIDTHS))
def sized_page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-TW", viewport=WIDTHS[request.param])
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.width_name = request.param
    yield page
    context.close()
    # A refusal answers 409 on purpose; Chromium reports any 4xx page as a failed resource.
    assert [text for text in problems if "status of 409" not in text] == []


def fresh_code() -> str:
    """The current code, not one about to expire: allauth allows no clock tolerance, so a code
    typed in the last moments of its 30 s would be refused after the turn."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.2)
    return current_code(DEMO_TOTP_SECRET)


def check(page) -> None:
    """Every page: axe clean, and the page itself never scrolls sideways (tables scroll in their box)."""
    assert_accessible(page)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide at {widths[1]}px"


def test_first_use_journey(sized_page):
    page = sized_page
    # A transactional test empties the tables after it, the data migration's authorities too.
    for code, name in AUTHORITIES:
        Unit.objects.get_or_create(code=code, defaults={"name": name, "kind": UnitKind.AUTHORITY})
    call_command("seed_demo")

    # 22: the frame. The home page says what is open; the footer leads to the policies.
    page.goto("/")
    check(page)
    expect(page.get_by_role("heading", name="目前開放的功能")).to_be_visible()
    footer = page.get_by_role("contentinfo")
    expect(footer).to_contain_text("service@inservice.example")
    footer.get_by_role("link", name="無障礙聲明").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("無障礙聲明")
    check(page)

    # 17: the application form.
    page.goto("/business-accounts/apply/")
    check(page)
    expect(page.get_by_text("10 個字元")).to_be_visible()  # the password rules before the first try
    page.get_by_label("單位代碼").fill("134601")
    page.get_by_label("身分證字號或居留證號").fill("B123 456 780")  # pasted with spaces
    page.get_by_role("button", name="送出申請").click()  # no account type chosen
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    check(page)
    group = page.get_by_role("group", name=re.compile("申請的帳號類型"))
    expect(group).to_have_accessible_description(re.compile("這個欄位是必須的|必填|請選擇"))
    summary.get_by_role("link", name=re.compile("申請的帳號類型")).click()
    expect(page.get_by_role("radio").first).to_be_focused()
    id_box = page.get_by_label("身分證字號或居留證號")
    expect(id_box).to_have_value("")
    expect(id_box).to_have_accessible_description(re.compile("不會再顯示身分證字號"))

    # 16: the sign-in page. Tab goes from 帳號 to 密碼; one forgotten-password link.
    page.goto("/accounts/login/")
    check(page)
    page.get_by_label("帳號或電子郵件").fill("chief1")
    page.keyboard.press("Tab")
    expect(page.get_by_label("密碼")).to_be_focused()
    expect(page.get_by_role("link", name=re.compile("忘記"))).to_have_count(1)
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")

    # 16: the two-step page: the code field has focus; a wrong code says what to do.
    expect(page.get_by_role("heading", level=1)).to_have_text("兩步驟驗證")
    expect(page.get_by_label("驗證碼")).to_be_focused()
    check(page)
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("30 秒")
    check(page)
    page.get_by_label("驗證碼").fill(fresh_code())
    page.get_by_role("button", name="登入", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已登入：chief1。")
    check(page)

    # 15: 帳號設定 leads to every account page, with one name for two-step verification, and a
    # fresh sign-in is not asked for the password again.
    page.get_by_role("banner").get_by_role("link", name="帳號設定").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("帳號設定")
    check(page)
    for label in ("電子郵件", "密碼", "兩步驟驗證", "復原碼"):
        expect(page.get_by_role("main").get_by_role("link", name=label, exact=True)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="兩步驟驗證", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("兩步驟驗證")
    check(page)
    page.go_back()
    page.get_by_role("main").get_by_role("link", name="復原碼", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("復原碼")  # not 確認身分
    check(page)

    # 18: the management table. The action column stays a table cell at every width.
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="本單位業務帳號管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("本單位業務帳號管理")
    check(page)
    region = page.get_by_role("region", name="本單位業務帳號")
    expect(region).to_be_visible()
    cell = page.locator("td.action-cell").first
    assert cell.evaluate("cell => getComputedStyle(cell).display") == (
        "table-cell" if page.width_name == "desktop" else "grid"
    )
    expect(page.get_by_role("row").filter(has_text="applicant1")).to_contain_text("待啟用")

    # 17: a refusal page does not offer the refused action again (contact1 is already enabled).
    contact = BusinessAccount.objects.get(username="contact1")
    page.goto(f"/business-accounts/{contact.pk}/enable/")
    check(page)
    page.get_by_role("button", name="確認啟用").click()
    expect(page.get_by_role("alert")).to_contain_text("不是待啟用狀態")
    expect(page.get_by_role("button", name="確認啟用")).to_have_count(0)
    expect(page.get_by_role("link", name="返回帳號清單")).to_be_visible()
    check(page)

    # 18 and 22: the public directory, authorities in the usual order, readable at this width.
    page.get_by_role("button", name="登出").click()
    page.goto("/directory/")
    check(page)
    options = page.get_by_label("主管機關").locator("option").all_inner_texts()
    assert options[1:4] == ["臺北市", "新北市", "桃園市"]
    page.get_by_label("主管機關").select_option(label="屏東縣")
    page.get_by_role("button", name="查詢").click()
    expect(page.get_by_role("region", name="查詢結果")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("chief1@"))).to_be_visible()
    check(page)


def test_account_and_operator_pages_at_both_widths(sized_page):
    page = sized_page
    call_command("seed_demo")
    for path in ("/privacy/", "/accessibility/", "/accounts/password/reset/"):
        page.goto(path)
        check(page)
    page.goto("/accounts/login/")
    page.get_by_label("帳號或電子郵件").fill("applicant1")  # pending: says who enables it
    page.get_by_label("密碼").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("帳號尚未啟用")
    expect(page.get_by_role("main")).to_contain_text("由該校的總負責人")
    check(page)

    page.goto("/accounts/login/")
    page.get_by_label("帳號或電子郵件").fill("operator1")
    page.get_by_label("密碼").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登入").click()
    page.get_by_label("驗證碼").fill(fresh_code())
    page.get_by_role("button", name="登入", exact=True).click()
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="業務帳號異動紀錄").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("業務帳號異動紀錄")
    expect(page.get_by_role("region", name=re.compile("類型變更及刪除紀錄"))).to_contain_text("申請")
    check(page)
    for path in ("/accounts/settings/", "/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"):
        page.goto(path)
        check(page)
