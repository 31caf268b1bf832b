"""帳號漫遊 in Chromium against a certified OpenID provider (issue 19 point 1).

The peer is the npm package `oidc-provider` (tests/sso_peer, installed by .ci/run), started by the
test on 127.0.0.1 with a free port; the portal runs on a live server with its real headers, so the
CSP's form-action applies to the redirect to the provider. PKCE is required by the peer, the
client secret contains `+`, the id_token is RS256 from the peer's JWKS. Tampered id_tokens (a key
not in the JWKS, `alg: none`, a wrong nonce, another sub, expired, another audience) are made by
the peer's test hook from the token it issued, as an attacker in the middle would; the cases no
real provider can be made to produce (HS256 with the secret, no id_token at all) stay with the
hand-written provider in tests/teachers/test_sso.py.
"""

import datetime as dt
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from celery import current_app
from django.core import mail
from playwright.sync_api import expect

from accounts.models import SecurityEvent, SecurityEventKind
from teachers.models import TeacherAccount
from tests.conftest import skip_or_fail
from tests.e2e.conftest import AXE_JS, assert_accessible
from tests.factories import PASSWORD, SchoolFactory
from tests.helpers import use_moe_provider
from tests.teachers.conftest import member, teacher_account

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PEER = Path(__file__).resolve().parents[1] / "sso_peer"
CLIENT_ID, SECRET = "inservice-e2e", "peer+secret/with%chars"


@pytest.fixture(autouse=True)
def _eager_tasks():
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


class Peer:
    def __init__(self, live_url: str, users: dict):
        node = shutil.which("node")
        if node is None:
            skip_or_fail("node is not installed: no oidc-provider peer")
        if not (PEER / "node_modules" / "oidc-provider").is_dir():
            skip_or_fail("tests/sso_peer/node_modules is missing: run `npm ci` there (.ci/run does)")
        config = {
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "redirect_uri": f"{live_url}/accounts/oidc/moe/login/callback/",
            "users": users,
            "other_sub": "moe-wang",  # the sub a tampered token claims instead of its own
        }
        self.process = subprocess.Popen(
            [node, "provider.mjs", json.dumps(config)],
            cwd=PEER,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            self.process.kill()
            pytest.fail("oidc-provider did not start")
        self.issuer = json.loads(line)["issuer"]

    def set_users(self, users: dict) -> None:
        request = urllib.request.Request(
            f"{self.issuer}/test/users", data=json.dumps(users).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (127.0.0.1)
            assert answer.status == 204

    def set_tamper(self, mode: str) -> None:
        """From now on the token endpoint's id_token is altered this way ('' for none)."""
        request = urllib.request.Request(
            f"{self.issuer}/test/tamper", data=json.dumps({"mode": mode}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (127.0.0.1)
            assert answer.status == 204

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def user(name: str, school, email: str) -> dict:
    return {
        "name": name,
        "email": email,
        "eduinfo": {"schoolid": school.code, "titles": [{"schoolid": school.code, "titles": ["教師"]}]},
    }


@pytest.fixture
def schools(db):
    return SchoolFactory(name="漫遊國小"), SchoolFactory(name="新任國中")


@pytest.fixture
def peer(live_server, settings, schools):
    first, _ = schools
    running = Peer(
        live_server.url,
        {
            "moe-wang": user("王一", first, "wang@roam.example.org"),
            "moe-li": user("李二", first, "li@roam.example.org"),
        },
    )
    use_moe_provider(settings, running.issuer, CLIENT_ID, SECRET)
    yield running
    running.stop()


def roam(page, peer: Peer, sub: str, *, signed_in_at_peer: bool = False) -> None:
    """From the portal's 登入 page through the 帳號漫遊 button and the peer's own sign-in form."""
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_role("button", name="使用教育體系單一簽入（帳號漫遊）").click()
    if not signed_in_at_peer:
        page.wait_for_url(f"{peer.issuer}/**")
        page.locator('input[name="login"]').fill(sub)
        page.locator('input[name="password"]').fill("any-password")
        page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(lambda url: not url.startswith(peer.issuer))


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_roaming_journey_against_oidc_provider(browser, live_server, peer, schools):
    first, second = schools
    wang = member(first, name="王一", start=dt.date(2020, 8, 1))
    wang_account = teacher_account(wang.person)
    li = member(first, name="李二", email="li@school.example.org", start=dt.date(2020, 8, 1))

    def fresh_page():
        context = browser.new_context(base_url=live_server.url, locale="zh-TW")
        context.add_init_script(path=str(AXE_JS))
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return context, page, errors

    # 1. First roaming sign-in: the CSP lets the form go to the provider; back on the bind page.
    context, page, errors = fresh_page()
    roam(page, peer, "moe-wang")
    heading(page, "帳號漫遊：確認身分")
    assert_accessible(page)
    # 2a. Binding by the teacher account (方式一).
    page.get_by_label("教師個人帳號（使用者帳號或電子郵件）").fill(wang_account.user.username)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入並綁定").click()
    expect(page.get_by_text("已綁定帳號漫遊")).to_be_visible()
    assert SocialAccount.objects.get(provider="moe", uid="moe-wang").user == wang_account.user
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()

    # 3. A later sign-in by SSO alone, after the teacher moved school at the MOE: applied.
    peer.set_users(
        {
            "moe-wang": user("王一", second, "wang@roam.example.org"),
            "moe-li": user("李二", second, "li@roam.example.org"),
        }
    )
    context, page, errors = fresh_page()
    roam(page, peer, "moe-wang")
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    assert wang.person.memberships.get(end_date__isnull=True).unit == second
    context.close()

    # 2b. Binding by national ID and name (方式二), confirmed from the roster's address.
    context, page, errors = fresh_page()
    roam(page, peer, "moe-li")
    heading(page, "帳號漫遊：確認身分")
    page.get_by_label("身分證字號").fill(li.person.reveal_national_id())
    page.get_by_label("姓名").fill("李二")
    page.get_by_role("button", name="寄送確認信").click()
    expect(page.get_by_text("申請已送出")).to_be_visible()
    (message,) = mail.outbox
    assert message.to == ["li@school.example.org"]
    assert "李二" in message.body and second.name in message.body  # who asked, from eduinfo
    link = next(word for word in message.body.split() if "/sso/bind/confirm/" in word)
    page.goto(urllib.parse.urlsplit(link).path)
    heading(page, "確認綁定帳號漫遊")
    assert_accessible(page)
    assert not SocialAccount.objects.filter(uid="moe-li").exists()  # the GET changed nothing
    assert li.person.memberships.get(end_date__isnull=True).unit == first
    page.get_by_role("button", name="確認綁定").click()
    heading(page, "登入")
    account = TeacherAccount.objects.get(person=li.person)
    assert SocialAccount.objects.get(uid="moe-li").user == account.user
    assert li.person.memberships.get(end_date__isnull=True).unit == second
    # Signed in at the peer already: the next 帳號漫遊 goes straight through.
    roam(page, peer, "moe-li", signed_in_at_peer=True)
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    context.close()


def test_a_replayed_callback_is_refused_with_a_helpful_page(browser, live_server, peer, schools):
    first, _ = schools
    account = teacher_account(member(first, name="王一").person)
    SocialAccount.objects.create(user=account.user, provider="moe", uid="moe-wang")
    context = browser.new_context(base_url=live_server.url, locale="zh-TW")
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.set_default_timeout(20_000)
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/login/callback/" in r.url else None)
    roam(page, peer, "moe-wang")
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    # Someone replays the callback URL (a leaked code) in another browser: refused.
    other = browser.new_context(base_url=live_server.url, locale="zh-TW")
    other.add_init_script(path=str(AXE_JS))
    stolen = other.new_page()
    stolen.goto(callbacks[0])
    heading(stolen, "帳號漫遊登入未完成")
    expect(
        stolen.get_by_role("link", name="回到登入頁，重新按「使用教育體系單一簽入（帳號漫遊）」")
    ).to_be_visible()
    assert_accessible(stolen)
    assert not SocialAccount.objects.exclude(uid="moe-wang").exists()
    # The same replay in the browser that signed in (state spent): refused too.
    page.goto(callbacks[0])
    heading(page, "帳號漫遊登入未完成")
    other.close()
    context.close()


TAMPERED = {
    "unknown_key": ("moe-wang", "id_token_unknown_key"),
    "alg_none": ("moe-wang", "id_token_algorithm_refused"),
    "wrong_nonce": ("moe-wang", "id_token_wrong_nonce"),
    "other_sub": ("moe-li", "userinfo_sub_differs"),  # li's sign-in with a token that says wang
    "expired": ("moe-wang", "id_token_expired"),
    "wrong_audience": ("moe-wang", "id_token_wrong_issuer_or_audience"),
}


def test_each_tampered_id_token_is_refused_in_the_browser(browser, live_server, peer, schools):
    first, _ = schools
    for name, sub in (("王一", "moe-wang"), ("李二", "moe-li")):
        account = teacher_account(member(first, name=name).person)
        SocialAccount.objects.create(user=account.user, provider="moe", uid=sub)
    for mode, (sub, reason) in TAMPERED.items():
        peer.set_tamper(mode)
        context = browser.new_context(base_url=live_server.url, locale="zh-TW")
        context.add_init_script(path=str(AXE_JS))
        page = context.new_page()
        page.set_default_timeout(20_000)
        roam(page, peer, sub)
        heading(page, "帳號漫遊登入未完成")
        expect(page.get_by_role("button", name="登出")).to_have_count(0)
        assert_accessible(page)
        event = SecurityEvent.objects.filter(kind=SecurityEventKind.SSO_FAILED).order_by("-pk").first()
        assert event is not None and event.reason == reason, (mode, event and event.reason)
        context.close()
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SSO_FAILED).count() == len(TAMPERED)
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.SIGN_IN).exists()
    # The same peer without tampering signs in: the refusals were the tokens', nothing else.
    peer.set_tamper("")
    context = browser.new_context(base_url=live_server.url, locale="zh-TW")
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.set_default_timeout(20_000)
    roam(page, peer, "moe-wang")
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    context.close()
