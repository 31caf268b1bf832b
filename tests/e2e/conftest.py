"""Browser test harness: Playwright for Python driving Debian's headless Chromium against a live server."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inservice.demo import DEMO_PASSWORD
from tests.conftest import skip_or_fail
from tests.helpers import totp_code

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it
# (seeding data) are ordinary synchronous calls, so Django's async-safety guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Without these, Chromium keeps calling home on a closed network (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, base_url: str, *, tolerate=lambda text: False, **options):
    """A new context (Playwright `options` such as storage_state) and page with axe injected;
    `problems` collects console errors and script errors, except axe's own and those `tolerate`
    accepts (a test that cuts the network expects its failed requests)."""
    context = browser.new_context(base_url=base_url, locale="zh-TW", **options)
    # An init script is injected through the DevTools protocol, so the page's CSP does not block it.
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    # A CSP violation (an inline script, say) or a script error is a failure, not noise.
    # axe itself (injected by the test, not served by the site) trips the CSP on some form pages.
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error"
            and not msg.location.get("url", "").endswith("axe.min.js")
            and not tolerate(msg.text)
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return context, page, problems


@pytest.fixture
def page(browser, live_server):
    context, page, problems = open_page(browser, live_server.url)
    yield page
    context.close()
    assert not problems, problems


def assert_accessible(page) -> None:
    """Run axe-core on the current page; any WCAG 2.1 A/AA violation fails the test."""
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            }));
        }""",
        WCAG_TAGS,
    )
    assert violations == [], f"axe violations on {page.url}: {violations}"


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """From the home page through the banner's 登入 link and the password form, axe on each page."""
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("banner").get_by_role("link", name="登入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登入")
    assert_accessible(page)
    page.get_by_label("帳號或電子郵件").fill(username)
    page.get_by_label("密碼").fill(password)
    page.get_by_role("button", name="登入").click()


def enter_totp_code(page, secret: str) -> None:
    """The second sign-in step of a business account: the authenticator app's current code."""
    page.get_by_label(re.compile("驗證碼|Code|代碼")).fill(totp_code(secret))
    page.get_by_role("button", name=re.compile("登入|Sign In|驗證")).click()
