"""研習報到 through the camera (issue 23, Done when): Chromium's fake capture device plays a video of a
participant's QR code to the 報到 page, online and with the portal's port refused and reopened;
each scan comes out once in the database. axe on every new page, at 375 px too."""

import datetime as dt
import socket
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
import qrcode
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.models import Person
from courses import checkin
from courses.models import CheckIn, Course, CourseSession, Enrolment, EnrolmentStatus
from inservice.demo import DEMO_TOTP_SECRET, demo_national_id
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, assert_accessible, enter_totp_code, open_page, sign_in
from tests.e2e.test_course_people import finished_course

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What a browser logs while the portal's port is refused: expected in the offline part, nothing else.
NETWORK_DOWN = ("ERR_CONNECTION_REFUSED", "ERR_FAILED", "Failed to fetch", "net::")


# The service worker controls the page and holds its whole copy (the page, its data and assets),
# and the page has finished refreshing it.
COPY_READY = """async () => {
    const cache = await caches.open("inservice-checkin-v1");
    return navigator.serviceWorker.controller !== null
        && document.getElementById("checkin").dataset.copy === "1"
        && !!(await cache.match(location.pathname))
        && !!(await cache.match(document.getElementById("checkin").dataset.dataUrl))
        && (await Promise.all(document.getElementById("checkin").dataset.assets.split(" ")
            .map((url) => cache.match(url)))).every(Boolean);
}"""


class Gate:
    """A TCP relay in front of the live server, the browser's only way to it. cut() closes the
    listening port (connections are refused) and drops open connections; restore() reopens it on
    the same port, so the page's origin, cookies and service worker stay the same."""

    def __init__(self, target_url: str):
        target = urlparse(target_url)
        self.target = (target.hostname, target.port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for connection in list(self.connections):
                self._close(connection)

    def _close(self, connection: socket.socket) -> None:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        connection.close()
        self.connections.discard(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self.lock:
            self._close(source)
            self._close(sink)


def write_y4m(path: Path, text: str, shown: int = 10, hidden: int = 25) -> Path:
    """A Y4M video (4:2:0, 10 frames a second) of the QR code of `text` on white for `shown` frames,
    then white for `hidden`: Chromium loops it, so the code is shown again and again, like a
    participant showing it a second time."""
    width, height = 640, 480
    code = qrcode.make(text, box_size=8, border=4).get_image().convert("L")
    side = min(height - 40, code.size[0])
    frame = Image.new("L", (width, height), 255)
    frame.paste(code.resize((side, side), Image.NEAREST), ((width - side) // 2, (height - side) // 2))
    luma = frame.tobytes()
    blank = bytes([255]) * (width * height)
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(shown + hidden):
            out.write(b"FRAME\n" + (luma if index < shown else blank) + chroma + chroma)
    return path


def course_today() -> tuple[Course, list[Enrolment]]:
    """The demo school's finished course moved to today, with one session and a second admitted teacher."""
    course = finished_course("校園防災演練研習")
    today = timezone.localdate()
    Course.objects.filter(pk=course.pk).update(start_date=today, end_date=today, hours=Decimal("6"))
    course.refresh_from_db()
    CourseSession.objects.create(
        course=course, date=today, starts_at=dt.time(0, 0), ends_at=dt.time(23, 59), hours=Decimal("6")
    )
    now = timezone.now()
    Enrolment.objects.create(
        course=course,
        person=Person.objects.by_national_id(demo_national_id("T22345605")).get(),
        status=EnrolmentStatus.ADMITTED,
        applied_at=now,
        admitted_at=now,
    )
    return course, list(course.enrolments.order_by("pk"))


def phone(browser, video: Path):
    """A phone: a Chromium of its own whose camera plays `video`."""
    return browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )


def wait_until(page, script: str, seconds: float = 15) -> None:
    """Poll `script` in the page (page.wait_for_function evaluates a string, which the CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {script}"
        time.sleep(0.2)


def accessible_at_both_widths(page) -> None:
    assert_accessible(page)
    page.set_viewport_size({"width": 375, "height": 812})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def open_checkin(page, course, *, signed_in=False) -> None:
    if not signed_in:
        sign_in(page, "clerk1")
        enter_totp_code(page, DEMO_TOTP_SECRET)
    else:
        page.goto("/")
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="研習課程管理/資料上傳").click()
    page.get_by_role("link", name=course.title).click()
    page.get_by_role("link", name="報到", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"報到：{course.title}")
    expect(page.locator("#checkin[data-ready='1']")).to_have_count(1)


def test_check_in_by_camera_online_and_with_the_network_cut(browser, live_server, tmp_path):
    call_command("seed_demo")
    course, (first, second) = course_today()
    gate = Gate(live_server.url)

    # Phone 1, online: the first participant's code is read and recorded at once.
    chromium = phone(browser, write_y4m(tmp_path / "first.y4m", checkin.token_for(first)))
    try:
        context, page, problems = open_page(chromium, gate.url)
        open_checkin(page, course)
        accessible_at_both_widths(page)
        page.get_by_role("button", name="開啟相機掃描").click()
        result = page.locator("#checkin-result")
        expect(result).to_contain_text(f"{first.person.masked_name} 報到完成", timeout=20_000)
        expect(page.locator("#checkin-queue")).to_have_text("連線正常，所有紀錄都已送出（本頁已送出 1 筆）。")
        assert CheckIn.objects.filter(enrolment=first).count() == 1
        # The same code still in front of the camera: 已報到, not a second record.
        expect(result).to_contain_text("不重複記錄", timeout=20_000)
        assert CheckIn.objects.filter(enrolment=first).count() == 1
        # The manual fallback: 簽退 found by the full name, shown masked with the 報名序號.
        page.get_by_role("button", name="關閉相機").click()
        page.get_by_label("簽退").check()
        page.get_by_label("姓名或報名序號").fill(first.person.name)
        page.get_by_role("button", name="查詢", exact=True).click()
        page.get_by_role("button", name=f"記錄簽退：{first.person.masked_name}（{first.number}）").click()
        expect(result).to_contain_text(f"{first.person.masked_name} 簽退完成")
        expect(page.locator("#checkin-queue")).to_have_text("連線正常，所有紀錄都已送出（本頁已送出 2 筆）。")
        page.get_by_label("報到", exact=True).check()
        # The organiser's other new pages.
        page.get_by_role("link", name="場次").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"場次：{course.title}")
        accessible_at_both_widths(page)
        page.goto(f"/unit/courses/{course.pk}/checkins/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"報到紀錄：{course.title}")
        accessible_at_both_widths(page)
        # The second phone is the same clerk's: a TOTP code is good once, so it keeps this sign-in.
        signed_in = context.storage_state()
        context.close()
        assert not problems, problems
    finally:
        chromium.close()

    # Phone 2: the page is opened once online, then the hall loses the network.
    chromium = phone(browser, write_y4m(tmp_path / "second.y4m", checkin.token_for(second)))
    try:
        context, page, problems = open_page(
            chromium,
            gate.url,
            tolerate=lambda text: any(mark in text for mark in NETWORK_DOWN),
            storage_state=signed_in,
        )
        open_checkin(page, course, signed_in=True)
        # The service worker controls the page and holds its copy (page and data) before the cut.
        wait_until(page, COPY_READY)
        gate.cut()
        page.reload()  # from the service worker's copy: the portal is unreachable
        expect(page.get_by_role("heading", level=1)).to_have_text(f"報到：{course.title}")
        expect(page.locator("#checkin[data-ready='1']")).to_have_count(1)
        page.get_by_role("button", name="開啟相機掃描").click()
        expect(page.locator("#checkin-result")).to_contain_text(
            f"{second.person.masked_name} 報到完成", timeout=20_000
        )
        expect(page.locator("#checkin-queue")).to_have_text(
            "目前離線：1 筆待傳送，恢復連線後會自動送出。", timeout=10_000
        )
        assert not CheckIn.objects.filter(enrolment=second).exists()
        queued = page.evaluate(
            """() => new Promise((resolve) => {
                const open = indexedDB.open("inservice-checkin", 1);
                open.onsuccess = () => {
                    const all = open.result.transaction("queue").objectStore("queue").getAll();
                    all.onsuccess = () => resolve(all.result.map((item) => item.scan));
                };
            })"""
        )
        assert len(queued) == 1

        gate.restore()
        expect(page.locator("#checkin-queue")).to_have_text(
            "連線正常，所有紀錄都已送出（本頁已送出 1 筆）。", timeout=20_000
        )
        # The same queue sent again (a lost answer, say) counts once.
        answer = page.evaluate(
            """async (scans) => {
                const form = document.getElementById("checkin");
                const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
                const response = await fetch(form.dataset.syncUrl, {
                    method: "POST", credentials: "same-origin", body: JSON.stringify({scans}),
                    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                });
                return response.json();
            }""",
            queued,
        )
        assert [item["outcome"] for item in answer["results"]] == ["recorded"]
        context.close()
        assert not problems, problems
    finally:
        chromium.close()
        gate.cut()

    records = list(CheckIn.objects.order_by("enrolment_id").values_list("enrolment_id", "kind"))
    assert records == sorted([(first.pk, "in"), (first.pk, "out"), (second.pk, "in")])
    assert CheckIn.objects.get(enrolment=first, kind="out").method == "manual"


def test_my_enrolments_shows_the_check_in_code_readable_at_phone_width(page):
    call_command("seed_demo")
    course, _enrolments = course_today()
    sign_in(page, "teacher1")
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="我的研習報名").click()
    expect(page.get_by_role("heading", level=2, name="報到 QR Code")).to_be_visible()
    expect(page.get_by_role("img", name=f"「{course.title}」的報到 QR Code")).to_be_visible()
    accessible_at_both_widths(page)


def test_the_network_lost_while_the_page_refreshes_its_copy_keeps_the_copy(browser, live_server, tmp_path):
    """Every visit online refreshes the copy; a hall whose network drops during that refresh (the
    clerk opened the page, then walked into the hall) still has the page offline."""
    call_command("seed_demo")
    course, (first, _second) = course_today()
    gate = Gate(live_server.url)
    chromium = phone(browser, write_y4m(tmp_path / "first.y4m", checkin.token_for(first)))
    try:
        context, page, problems = open_page(
            chromium, gate.url, tolerate=lambda text: any(mark in text for mark in NETWORK_DOWN)
        )
        open_checkin(page, course)
        wait_until(page, COPY_READY)
        for _ in range(3):
            page.reload()
            expect(page.locator("#checkin[data-ready='1']")).to_have_count(1)
            gate.cut()  # the page is refreshing its copy now
            page.reload()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"報到：{course.title}")
            expect(page.locator("#checkin[data-ready='1']")).to_have_count(1, timeout=15_000)
            gate.restore()
        context.close()
        assert not problems, problems
    finally:
        chromium.close()
