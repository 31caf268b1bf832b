"""Sign-out on a 報到 phone (issue 23, point 2): the participants' tokens kept for offline use
(Cache Storage, IndexedDB) do not outlive the clerk's session; queued scans are sent first, or the
clerk is warned before they are lost; the service worker drops its copy for a signed-out session."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from courses import checkin
from courses.models import CheckIn
from tests.e2e.test_checkin import (
    COPY_READY,
    NETWORK_DOWN,
    Gate,
    accessible_at_both_widths,
    course_today,
    open_checkin,
    open_page,
    phone,
    wait_until,
    write_y4m,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Whether any trace of the token is on the phone: in any cache's responses, or the queue's database.
TOKEN_KEPT = """async (token) => {
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
            if ((await (await cache.match(request)).text()).includes(token)) return true;
        }
    }
    return (await indexedDB.databases()).some((db) => db.name === "inservice-checkin");
}"""
QUEUED = """() => new Promise((resolve) => {
    const open = indexedDB.open("inservice-checkin", 1);
    open.onsuccess = () => {
        const all = open.result.transaction("queue").objectStore("queue").count();
        all.onsuccess = () => { resolve(all.result); open.result.close(); };
    };
})"""
# The queue emptied: every scan made so far reached the portal (its answer shows before it is sent).
SENT = f"async () => (await ({QUEUED})()) === 0"
WARNING = "尚有 1 筆報到紀錄未送出，請連線後再登出，否則紀錄將遺失。"


def ready_offline(page) -> None:
    """The 報到 page started from the service worker's copy (slow on a loaded machine)."""
    try:
        expect(page.locator("#checkin[data-ready='1']")).to_have_count(1, timeout=15_000)
    except AssertionError as error:
        raise AssertionError(page.locator("#checkin-queue").text_content()) from error


def scan_out(page, name: str) -> None:
    page.get_by_label("簽退").check()
    page.get_by_role("button", name="開啟相機掃描").click()
    expect(page.locator("#checkin-result")).to_contain_text(f"{name} 簽退完成", timeout=20_000)


def test_sign_out_clears_the_participants_copy_and_warns_of_queued_scans(browser, live_server, tmp_path):
    call_command("seed_demo")
    course, (first, _second) = course_today()
    token = checkin.token_for(first)
    name = first.person.masked_name
    gate = Gate(live_server.url)
    chromium = phone(browser, write_y4m(tmp_path / "first.y4m", token))
    try:
        context, page, problems = open_page(
            chromium, gate.url, tolerate=lambda text: any(mark in text for mark in NETWORK_DOWN)
        )
        open_checkin(page, course)
        checkin_url = page.url
        page.get_by_role("button", name="開啟相機掃描").click()
        expect(page.locator("#checkin-result")).to_contain_text(f"{name} 報到完成", timeout=20_000)
        wait_until(page, SENT)
        wait_until(page, COPY_READY)
        assert page.evaluate(TOKEN_KEPT, token)

        # A session that ended without the sign-out button (cookie gone, timed out): the service
        # worker meets the sign-in redirect and deletes its copy instead of serving it.
        # (Off the 報到 page first: a response to its requests in flight would set the cookie again.)
        page.goto("/")
        cookies = context.cookies()
        context.clear_cookies()
        page.goto(checkin_url)
        expect(page.get_by_role("heading", level=1)).to_have_text("登入")
        wait_until(page, """async () => !(await caches.keys()).includes("inservice-checkin-v1")""")
        context.add_cookies(cookies)

        # Offline with a scan queued: sign-out keeps it and warns, with a choice.
        page.goto(checkin_url)
        expect(page.locator("#checkin[data-ready='1']")).to_have_count(1)
        wait_until(page, COPY_READY)
        wait_until(page, SENT)
        gate.cut()
        page.reload()
        ready_offline(page)
        scan_out(page, name)
        banner_sign_out = page.get_by_role("banner").get_by_role("button", name="登出")
        banner_sign_out.click()
        warning = page.get_by_role("alert")
        expect(warning).to_contain_text(WARNING)
        accessible_at_both_widths(page)
        warning.get_by_role("button", name="暫不登出").click()
        expect(warning).to_have_count(0)
        assert page.evaluate(QUEUED) == 1
        assert page.evaluate(TOKEN_KEPT, token)
        # Signing out anyway discards the queue and the copy (the sign-out request itself cannot
        # reach the portal while the network is cut).
        banner_sign_out.click()
        page.get_by_role("alert").get_by_role("button", name="仍要登出（捨棄未送出的紀錄）").click()
        page.wait_for_timeout(1000)
        gate.restore()
        page.goto("/")
        assert not page.evaluate(TOKEN_KEPT, token)
        assert not CheckIn.objects.filter(enrolment=first, kind="out").exists()

        # Back online with a scan queued: sign-out sends it first, then clears the copy.
        open_checkin(page, course, signed_in=True)
        wait_until(page, COPY_READY)
        gate.cut()
        page.reload()
        ready_offline(page)
        scan_out(page, name)
        assert page.evaluate(QUEUED) == 1
        gate.restore()
        banner_sign_out.click()
        expect(page.get_by_role("banner").get_by_role("link", name="登入")).to_be_visible()
        assert not page.evaluate(TOKEN_KEPT, token)
        assert CheckIn.objects.filter(enrolment=first, kind="out").count() == 1
        assert CheckIn.objects.filter(enrolment=first, kind="in").count() == 1
        context.close()
        assert not problems, problems
    finally:
        chromium.close()
        gate.cut()
