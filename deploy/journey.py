"""The smoke journey over HTTP against a running stack (deploy/stack.py), as a browser sees it
behind the TLS proxy: sign-in (with the second factor), a roster 批次上傳 processed by the worker,
a 研習證明 PDF, the guide PDF, a 最新消息 attachment and a reward run.

The data are the demo county (`manage.py seed_demo`) and one year of hours imported the way an
operator imports them (`manage.py import_data hours`), both run as one-offs of the web service.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import re
import secrets
import struct
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import requests

from accounts.national_id import with_check_digit

DEMO_PASSWORD = "inservice-demo"  # inservice.demo (README)
DEMO_TOTP_SECRET = "INSERVICEDEMOTOTPSECRETABCDEFGHI"
TEACHER_ID = with_check_digit("T12345678")  # teacher1 of the demo
MAIN_SCHOOL = "134601"
HOURS_YEAR = 113
HOURS_CSV = (
    "national_id,course_code,course_title,organiser_code,date,hours\n"
    f"{TEACHER_ID},DEMO-1130002,素養導向評量工作坊,{MAIN_SCHOOL},2024-09-18,3\n"
)
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TAIPEI = dt.timezone(dt.timedelta(hours=8))


class JourneyFailed(AssertionError):
    pass


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238, as the authenticator app computes it (SHA-1, 30 s, 6 digits)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at or time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@dataclass
class Browser:
    """requests with the proxy's headers and a cookie jar of its own (the portal's cookies are
    Secure: a stock jar would not send them over the rehearsal's plain HTTP)."""

    base: str
    host: str
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.http = requests.Session()
        self.http.trust_env = False

    def _headers(self, path: str, method: str) -> dict[str, str]:
        headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
            "Referer": f"https://{self.host}{path}",
        }
        if method != "GET":
            headers["Origin"] = f"https://{self.host}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, *, follow: bool = True, **kwargs) -> requests.Response:
        for _hop in range(10):
            response = self.http.request(
                method,
                self.base + path,
                headers=self._headers(path, method),
                allow_redirects=False,
                timeout=120,
                **kwargs,
            )
            for header in response.raw.headers.getlist("Set-Cookie"):
                jar = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            if not (follow and response.is_redirect):
                return response
            location = urllib.parse.urlsplit(response.headers["Location"])
            if location.netloc and location.netloc != self.host:
                raise JourneyFailed(f"redirected off the site: {response.headers['Location']}")
            path = location.path + (f"?{location.query}" if location.query else "")
            method, kwargs = "GET", {}
        raise JourneyFailed(f"too many redirects at {path}")

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.request("GET", path, **kwargs)
        if response.status_code != 200:
            raise JourneyFailed(f"GET {path}: {response.status_code}\n{response.text[:2000]}")
        return response

    def post_form(self, path: str, data: dict, *, files: dict | None = None, form_page: str | None = None):
        page = self.get(form_page or path).text
        token = CSRF_RE.search(page)
        if not token:
            raise JourneyFailed(f"no CSRF token on {form_page or path}")
        response = self.request(
            "POST", path, data={"csrfmiddlewaretoken": token.group(1), **data}, files=files
        )
        if response.status_code >= 400:
            raise JourneyFailed(f"POST {path}: {response.status_code}\n{response.text[:2000]}")
        return response

    def sign_in(self, username: str, *, totp_secret: str | None = None) -> None:
        page = self.post_form("/accounts/login/", {"login": username, "password": DEMO_PASSWORD})
        if totp_secret:
            if "/2fa/" not in page.url:
                raise JourneyFailed(f"{username}: no second-factor step ({page.url})")
            step = urllib.parse.urlsplit(page.url).path
            page = self.post_form(step, {"code": totp(totp_secret)})
            if "/2fa/" in page.url:
                # The code was refused as already used: allauth remembers a used code for its period
                # (in the shared cache), and this account signed in a moment ago (the restore drill
                # signs in on the restored copy right after the original). A person waits for the
                # next code; so does the journey.
                time.sleep(30 - time.time() % 30 + 1)
                page = self.post_form(step, {"code": totp(totp_secret)})
        home = self.get("/").text
        if "登出" not in home:
            raise JourneyFailed(f"{username} is not signed in:\n{home[:1500]}")


def wait_for(what: str, check, timeout: float = 180, every: float = 1.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise JourneyFailed(f"{what}: not done in {timeout} s")


def seed(stack) -> None:
    """The demo county and a year of teacher1's hours, as one-offs of the web service."""
    stack.run("web", ["python", "manage.py", "seed_demo"])
    hours = stack.work / "rootfs" / "web" / "tmp" / "hours.csv"
    hours.write_text(HOURS_CSV, encoding="utf-8")
    stack.run("web", ["python", "manage.py", "import_data", "hours", str(hours)])


def roc_today() -> str:
    today = dt.datetime.now(TAIPEI).date()
    return f"{today.year - 1911}/{today.month}/{today.day}"


def run(base: str, host: str) -> dict:
    """Every step; returns what it made (for a restore drill to look for afterwards)."""
    made = {}
    guest = Browser(base, host)
    guide = guest.get("/plans/guide.pdf")
    if not guide.content.startswith(b"%PDF-"):
        raise JourneyFailed("the guide PDF is not a PDF")

    teacher = Browser(base, host)
    teacher.sign_in("teacher1")
    certificate = teacher.post_form(
        "/me/learning-record/certificate/",
        {"year": str(HOURS_YEAR)},
        form_page=f"/me/learning-record/?year={HOURS_YEAR}",
    )
    if certificate.headers.get("Content-Type") != "application/pdf" or not certificate.content.startswith(
        b"%PDF-"
    ):
        raise JourneyFailed(f"研習證明 is not a PDF:\n{certificate.text[:1500]}")

    chief = Browser(base, host)
    chief.sign_in("chief1", totp_secret=DEMO_TOTP_SECRET)
    serial = secrets.randbelow(9_000_000) + 1_000_000
    ids = [with_check_digit(f"R1{serial + n:07d}") for n in range(2)]
    roster = "national_id,name,email,unit_code,category,title,subjects,start_date,end_date\n" + "".join(
        f"{nid},演練{n},,{MAIN_SCHOOL},教師,教師,,2024-08-01,\n" for n, nid in enumerate(ids)
    )
    status = chief.post_form(
        "/unit/teachers/upload/", {}, files={"file": ("roster.csv", roster.encode(), "text/csv")}
    )
    status_path = urllib.parse.urlsplit(status.url).path
    if not re.fullmatch(r"/unit/teachers/upload/\d+/", status_path):
        raise JourneyFailed(f"the upload did not lead to its status page: {status.url}\n{status.text[:1500]}")

    def imported():
        text = chief.get(status_path).text
        if "退回" in text and "匯入完成" not in text:
            raise JourneyFailed(f"the worker refused the roster upload:\n{html.unescape(text)[:3000]}")
        return "匯入完成" in text

    wait_for("批次上傳 by the worker", imported)
    made["roster_ids"] = ids

    operator = Browser(base, host)
    operator.sign_in("operator1", totp_secret=DEMO_TOTP_SECRET)
    attachment = b"%PDF-1.4\n% rehearsal " + secrets.token_hex(8).encode() + b"\n%%EOF\n"
    operator.post_form(
        "/news/new/",
        {"title": f"演練公告 {serial}", "published_on": roc_today(), "body": "備份與還原演練"},
        files={"attachment": ("notice.pdf", attachment, "application/pdf")},
    )
    news = teacher.get("/news/").text
    links = re.findall(r'href="(/news/(\d+)/attachment/)"', news)
    if not links:
        raise JourneyFailed("the 最新消息 attachment is not listed")
    path = max(links, key=lambda link: int(link[1]))[0]
    if teacher.get(path).content != attachment:
        raise JourneyFailed("the 最新消息 attachment came back different")
    made["attachment"] = (path, attachment)

    operator.post_form("/operator/rewards/", {"year": str(HOURS_YEAR)})

    def rewarded():
        active = operator.get("/operator/rewards/progress/").json()["active"]
        return not active

    wait_for("the reward run by the worker", rewarded, timeout=300)
    page = html.unescape(operator.get("/operator/rewards/").text)
    if "完成" not in page:
        raise JourneyFailed(f"the reward run did not complete:\n{page[:3000]}")
    return made


def check_restored(base: str, host: str, made: dict) -> None:
    """What the journey made before a backup is there after the restore."""
    teacher = Browser(base, host)
    teacher.sign_in("teacher1")
    path, content = made["attachment"]
    if teacher.get(path).content != content:
        raise JourneyFailed("the restored 最新消息 attachment differs")
