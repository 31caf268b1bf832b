"""帳號漫遊 (issue 10 point 9): MOE SSO through allauth's OpenID Connect provider `moe`, against a
small OIDC provider the tests run on 127.0.0.1 (discovery, authorize, token, userinfo, eduinfo):
real HTTP and a real code-for-token exchange, never the internet."""

import base64
import datetime as dt
import hashlib
import http.client
import http.server
import json
import secrets
import threading
import time
import urllib.parse

import jwt
import pytest
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent, SecurityEventKind
from teachers import selectors
from teachers.models import AccountStatus, EndReason, TeacherAccount
from tests.factories import PASSWORD
from tests.helpers import use_moe_provider
from tests.teachers.conftest import ask_by_id, member, teacher_account

# A secret with characters that must be form-encoded for client_secret_basic (RFC 6749 §2.3.1).
CLIENT_ID, SECRET = "inservice-test", "s3cret+for/tests%=2B"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


class Provider:
    """A minimal OpenID provider in a thread; `users` maps sub -> (userinfo, eduinfo).

    It checks what a strict provider checks (PKCE S256, form-encoded Basic credentials) and signs
    the id_token with a key of its JWKS; `tamper` makes it hand out one kind of bad id_token,
    which the real provider (tests/e2e/test_sso_journey.py) cannot be made to do."""

    def __init__(self):
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}
        self.users: dict[str, tuple[dict, dict]] = {}
        self.next_sub = ""
        self.seen_scopes: list[str] = []
        self.seen_auth: list[str] = []
        self.seen_authorize: list[dict] = []
        self.tamper = ""
        self.signing = (KEY, "k1")  # the key the provider signs with and publishes
        self.jwks_fetches = 0
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, data, status=200):
                body = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _bearer_sub(self):
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                return provider.tokens.get(token)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    base = provider.url
                    return self._json(
                        {
                            "issuer": base,
                            "authorization_endpoint": f"{base}/authorize",
                            "token_endpoint": f"{base}/token",
                            "userinfo_endpoint": f"{base}/userinfo",
                            "jwks_uri": f"{base}/jwks",
                            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                            "code_challenge_methods_supported": ["S256"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                        }
                    )
                if url.path == "/jwks":
                    provider.jwks_fetches += 1
                    return self._json({"keys": [public_jwk(*provider.signing)]})
                if url.path == "/authorize":
                    provider.seen_scopes.append(query.get("scope", ""))
                    provider.seen_authorize.append(query)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "sub": provider.next_sub,
                        "nonce": query.get("nonce"),
                        "challenge": query.get("code_challenge"),
                        "method": query.get("code_challenge_method"),
                    }
                    target = (
                        query["redirect_uri"]
                        + "?"
                        + urllib.parse.urlencode({"code": code, "state": query["state"]})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                sub = self._bearer_sub()
                if sub is None:
                    return self._json({"error": "invalid_token"}, 401)
                if url.path == "/userinfo":
                    info = dict(provider.users[sub][0])
                    if provider.tamper == "other_sub":
                        info["sub"] = sub + "-other"
                    return self._json(info)
                if url.path == "/eduinfo":
                    return self._json(provider.users[sub][1])
                return self._json({"error": "not_found"}, 404)

            def _client_ok(self) -> bool:
                header = self.headers.get("Authorization") or ""
                provider.seen_auth.append(header)
                if not header.startswith("Basic "):
                    return False
                pair = base64.b64decode(header.removeprefix("Basic ")).decode()
                client_id, _, secret = pair.partition(":")
                decoded = urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)
                return decoded == (CLIENT_ID, SECRET)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path != "/token" or not self._client_ok():
                    return self._json({"error": "invalid_client"}, 401)
                grant = provider.codes.pop(form.get("code", ""), None)
                if grant is None:
                    return self._json({"error": "invalid_grant"}, 400)
                verifier = form.get("code_verifier", "")
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                if grant["method"] != "S256" or not verifier or expected.decode() != grant["challenge"]:
                    return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
                access = secrets.token_urlsafe(16)
                provider.tokens[access] = grant["sub"]
                answer = {"access_token": access, "token_type": "Bearer", "expires_in": 300}
                answer["id_token"] = provider.id_token(grant["sub"], grant["nonce"])
                return self._json(answer)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def id_token(self, sub: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300, "nonce": nonce}
        key, headers = self.signing[0], {"kid": self.signing[1]}
        match self.tamper:
            case "alg_none":
                return jwt.encode(claims, None, algorithm="none", headers=headers)
            case "unknown_key":
                key, headers = OTHER_KEY, {"kid": "k2"}
            case "known_kid_other_key":
                key = OTHER_KEY
            case "hs256":
                return jwt.encode(claims, SECRET, algorithm="HS256", headers=headers)
            case "wrong_nonce":
                claims["nonce"] = "not-the-nonce"
            case "no_nonce":
                del claims["nonce"]
            case "expired":
                claims["iat"], claims["exp"] = now - 3600, now - 600
            case "wrong_audience":
                claims["aud"] = "another-client"
            case "wrong_issuer":
                claims["iss"] = "https://evil.example.org"
            case "none_token":
                return ""
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)

    def add(self, sub, *, schoolid, titles=("教師",), email="roam@example.org"):
        self.users[sub] = (
            {"sub": sub, "email": email, "name": "漫遊者"},
            {"sub": sub, "schoolid": schoolid, "titles": [{"schoolid": schoolid, "titles": list(titles)}]},
        )

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def provider(settings):
    running = Provider()
    use_moe_provider(settings, running.url, CLIENT_ID, SECRET)
    yield running
    running.close()


def roam(client: Client, provider: Provider, sub: str):
    """One SSO round trip: our login view, the provider's authorize page over HTTP, our callback."""
    provider.next_sub = sub
    start = client.post(reverse("openid_connect_login", args=["moe"]))
    assert start.status_code == 302 and start.url.startswith(provider.url)
    parts = urllib.parse.urlsplit(start.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    answer = conn.getresponse()
    assert answer.status == 302
    back = urllib.parse.urlsplit(answer.getheader("Location"))
    conn.close()
    return client.get(f"{back.path}?{back.query}")


def confirm_path(message) -> str:
    link = next(word for word in message.body.split() if "/sso/bind/confirm/" in word)
    return urllib.parse.urlsplit(link).path


def signed_in_as(client: Client):
    return client.session.get(SESSION_KEY)


def test_first_roaming_sign_in_binds_through_the_teacher_account_and_moves_the_school(
    provider, school, other_school
):
    membership = member(school, name="王漫遊", start=dt.date(2020, 8, 1))
    account = teacher_account(membership.person)
    provider.add("sub-1", schoolid=other_school.code)
    client = Client()

    response = roam(client, provider, "sub-1")
    assert response.status_code == 302 and response.url == reverse("teachers:sso-bind")
    assert signed_in_as(client) is None
    assert "eduinfo" in provider.seen_scopes[0].split()
    assert provider.seen_auth[0].startswith("Basic ")  # client_secret_basic, a real token exchange

    response = client.post(
        reverse("teachers:sso-bind"),
        {"method": "account", "account-login": account.user.username, "account-password": PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in_as(client) == str(account.user.pk)
    assert SocialAccount.objects.get(provider="moe").user == account.user
    old, new = membership.person.memberships.order_by("start_date")
    today = timezone.localdate()
    assert (old.end_date, old.end_reason) == (today - dt.timedelta(days=1), EndReason.TRANSFERRED)
    assert (new.unit, new.start_date, new.source) == (other_school, today, "帳號漫遊")


def test_after_binding_sso_alone_signs_in_and_follows_the_school(provider, school, other_school):
    membership = member(school, start=dt.date(2020, 8, 1))
    account = teacher_account(membership.person)
    SocialAccount.objects.create(user=account.user, provider="moe", uid="sub-2")
    provider.add("sub-2", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-2")
    assert signed_in_as(client) == str(account.user.pk)
    assert membership.person.memberships.count() == 1  # same school: nothing moved

    provider.add("sub-2", schoolid=other_school.code)
    roam(Client(), provider, "sub-2")
    assert membership.person.memberships.get(end_date__isnull=True).unit == other_school


def test_a_disabled_teacher_account_does_not_sign_in_by_sso(provider, school):
    membership = member(school)
    account = teacher_account(membership.person, status=AccountStatus.DISABLED)
    SocialAccount.objects.create(user=account.user, provider="moe", uid="sub-3")
    provider.add("sub-3", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-3")
    assert signed_in_as(client) is None


def test_proof_by_national_id_and_name_is_confirmed_by_the_roster_email(provider, school):
    membership = member(school, name="李待綁", email="li@example.org")
    provider.add("sub-4", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-4")
    response = ask_by_id(client, membership.person.reveal_national_id(), "李待綁")
    assert response.url == reverse("teachers:sso-sent")
    assert not SocialAccount.objects.exists()  # nothing bound before the link is opened
    assert mail.outbox[0].to == ["li@example.org"]
    link = confirm_path(mail.outbox[0])
    assert Client().post(link).status_code == 302
    account = TeacherAccount.objects.get(person=membership.person)
    assert account.status == AccountStatus.ACTIVE
    assert SocialAccount.objects.get(provider="moe", uid="sub-4").user == account.user
    # 已申請（含帳號漫遊）counts the roaming teacher.
    assert selectors.roster_counts(school)["applied"] == 1
    client = Client()
    roam(client, provider, "sub-4")
    assert signed_in_as(client) == str(account.user.pk)


def test_a_wrong_name_gets_the_same_answer_and_no_mail(provider, school):
    membership = member(school, name="陳正確", email="chen@example.org")
    provider.add("sub-5", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-5")
    response = ask_by_id(client, membership.person.reveal_national_id(), "陳錯誤")
    assert response.url == reverse("teachers:sso-sent")
    assert mail.outbox == [] and not SocialAccount.objects.exists()


def test_a_bound_sub_cannot_be_bound_again_to_someone_else(provider, school):
    first = teacher_account(member(school).person)
    SocialAccount.objects.create(user=first.user, provider="moe", uid="sub-6")
    second = teacher_account(member(school).person)
    from teachers import sso
    from teachers.services import RosterError

    with pytest.raises(RosterError):
        sso.sso_binding_by_account(user=second.user, uid="sub-6", eduinfo={})
    assert SocialAccount.objects.get().user == first.user


def test_the_bind_page_needs_a_pending_roaming_sign_in(db):
    assert Client().get(reverse("teachers:sso-bind")).url == reverse("account_login")


def test_a_business_user_password_does_not_bind(provider, school, chief):
    provider.add("sub-7", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-7")
    response = client.post(
        reverse("teachers:sso-bind"),
        {"method": "account", "account-login": chief.username, "account-password": PASSWORD},
    )
    assert response.status_code == 200
    assert "業務帳號不能綁定帳號漫遊" in response.content.decode()
    assert not SocialAccount.objects.exists() and signed_in_as(client) is None


def test_proof_by_id_binds_to_the_existing_teacher_account(provider, school):
    membership = member(school, name="林已有", email="lin@example.org")
    account = teacher_account(membership.person)
    provider.add("sub-9", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-9")
    ask_by_id(client, membership.person.reveal_national_id(), "林已有")
    Client().post(confirm_path(mail.outbox[0]))
    assert SocialAccount.objects.get(uid="sub-9").user == account.user
    assert TeacherAccount.objects.filter(person=membership.person).count() == 1


def test_proof_by_id_past_the_per_id_limit_answers_alike_and_sends_nothing(provider, school, settings):
    membership = member(school, name="張頻繁", email="chang@example.org")
    provider.add("sub-10", schoolid=school.code)
    statuses = []
    for _ in range(4):  # APPLY_LIMIT_PER_ID is 3
        client = Client()
        roam(client, provider, "sub-10")
        response = ask_by_id(client, membership.person.reveal_national_id(), "張頻繁")
        statuses.append(response.status_code)
    # Past the per-ID limit: the same receipt as always, and no mail (issue 16 point 8).
    assert statuses == [302, 302, 302, 302]
    assert len(mail.outbox) == 3


def test_sign_in_works_when_eduinfo_is_unavailable(provider, school, settings):
    account = teacher_account(member(school).person)
    SocialAccount.objects.create(user=account.user, provider="moe", uid="sub-11")
    provider.add("sub-11", schoolid="NO-SUCH")
    settings.MOE_SSO_EDUINFO_URL = "http://127.0.0.1:9/eduinfo"  # nothing listens there
    client = Client()
    roam(client, provider, "sub-11")
    assert signed_in_as(client) == str(account.user.pk)
    assert account.person.memberships.get().unit == school


# ------------------------------------------------------------------------------------------------
# The protocol (issue 19 point 1): PKCE, the encoded secret, the id_token, failures, the CSP.


def test_the_flow_uses_pkce_s256_a_nonce_and_the_encoded_secret(provider, school):
    account = teacher_account(member(school).person)
    SocialAccount.objects.create(user=account.user, provider="moe", uid="sub-p")
    provider.add("sub-p", schoolid=school.code)
    client = Client()
    roam(client, provider, "sub-p")
    assert signed_in_as(client) == str(account.user.pk)  # the provider checked PKCE and the secret
    asked = provider.seen_authorize[0]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked.get("nonce", "")) >= 32
    raw = base64.b64decode(provider.seen_auth[0].removeprefix("Basic ")).decode()
    assert raw == f"{CLIENT_ID}:{urllib.parse.quote_plus(SECRET)}" and "+" not in raw.split(":")[1]


TAMPERED = {
    "alg_none": "id_token_algorithm_refused",
    "hs256": "id_token_algorithm_refused",
    "unknown_key": "id_token_unknown_key",
    "known_kid_other_key": "id_token_bad_signature",
    "wrong_nonce": "id_token_wrong_nonce",
    "no_nonce": "id_token_invalid",
    "expired": "id_token_expired",
    "wrong_audience": "id_token_wrong_issuer_or_audience",
    "wrong_issuer": "id_token_wrong_issuer_or_audience",
    "other_sub": "userinfo_sub_differs",
    "none_token": "id_token_missing",
}


@pytest.mark.parametrize("tamper", sorted(TAMPERED))
def test_a_tampered_id_token_is_refused_logged_and_explained(provider, school, tamper, caplog):
    account = teacher_account(member(school).person)
    SocialAccount.objects.create(user=account.user, provider="moe", uid="sub-t")
    provider.add("sub-t", schoolid=school.code)
    provider.tamper = tamper
    client = Client()
    with caplog.at_level("WARNING", logger="teachers.sso"):
        response = roam(client, provider, "sub-t")
    assert response.status_code == 401
    assert signed_in_as(client) is None and not client.session.get("teachers.sso.pending")
    assert "帳號漫遊登入未完成" in response.content.decode()
    assert reverse("account_login") in response.content.decode()  # what to do next
    logged = [r.getMessage() for r in caplog.records if "SSO sign-in failed" in r.getMessage()]
    assert logged and f"reason={TAMPERED[tamper]}" in logged[0]
    assert "sub-t" not in logged[0]
    # The security audit trail holds it too, with its reason and no ID, sub, code or state.
    (event,) = SecurityEvent.objects.filter(kind=SecurityEventKind.SSO_FAILED)
    assert event.reason == TAMPERED[tamper] and event.user is None and event.username == ""
    assert event.path == "/accounts/oidc/moe/login/callback/"
    assert "sub-t" not in f"{event.reason}{event.path}{event.username}"


def test_a_refused_state_is_recorded_in_the_security_log(provider, school, operator):
    provider.add("sub-s", schoolid=school.code)
    response = Client().get("/accounts/oidc/moe/login/callback/?code=stolen&state=not-this-browsers")
    assert response.status_code == 401
    (event,) = SecurityEvent.objects.filter(kind=SecurityEventKind.SSO_FAILED)
    assert event.reason and "stolen" not in event.reason and "not-this" not in event.reason
    # The operator's 安全稽核紀錄 shows it with its reason.
    client = Client()
    client.force_login(operator)
    page = client.get(reverse("accounts:security-log")).content.decode()
    assert f"帳號漫遊登入失敗（{event.reason}）" in page


# ------------------------------------------------------------------------------------------------
# The provider's JWKS is cached, and fetched anew when the provider rotates its key.


def bound_teacher(school, provider, sub: str):
    account = teacher_account(member(school).person)
    SocialAccount.objects.create(user=account.user, provider="moe", uid=sub)
    provider.add(sub, schoolid=school.code)
    return account


def test_the_jwks_is_fetched_once_for_many_sign_ins(provider, school):
    account = bound_teacher(school, provider, "sub-c")
    for _ in range(3):
        client = Client()
        roam(client, provider, "sub-c")
        assert signed_in_as(client) == str(account.user.pk)
    assert provider.jwks_fetches == 1


@pytest.mark.parametrize("kid", ["k-rotated", "k1"], ids=["new_kid", "same_kid_new_key"])
def test_a_rotated_key_fetches_the_jwks_anew_and_signs_in(provider, school, kid):
    account = bound_teacher(school, provider, "sub-r")
    roam(Client(), provider, "sub-r")
    provider.signing = (OTHER_KEY, kid)
    client = Client()
    roam(client, provider, "sub-r")
    assert signed_in_as(client) == str(account.user.pk)
    assert provider.jwks_fetches == 2


def test_a_key_missing_even_from_a_fresh_jwks_is_refused_after_one_refetch(provider, school):
    bound_teacher(school, provider, "sub-k")
    roam(Client(), provider, "sub-k")
    provider.tamper = "unknown_key"
    client = Client()
    assert roam(client, provider, "sub-k").status_code == 401
    assert signed_in_as(client) is None
    assert provider.jwks_fetches == 2


def test_a_tampered_token_does_not_reach_the_bind_page_either(provider, school):
    provider.add("sub-u", schoolid=school.code)
    provider.tamper = "unknown_key"
    client = Client()
    response = roam(client, provider, "sub-u")
    assert response.status_code == 401 and not client.session.get("teachers.sso.pending")
    assert client.get(reverse("teachers:sso-bind")).url == reverse("account_login")


def test_form_action_allows_the_configured_provider(provider, client):
    response = client.get(reverse("account_login"))
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert policy["form-action"].split() == ["'self'", provider.url]
    assert "'self'" == policy["default-src"]


def test_the_shipped_settings_turn_pkce_on_and_allow_their_own_provider():
    from django.conf import settings as shipped

    from teachers import oidc

    app = oidc.configured_app()
    assert app["settings"]["oauth_pkce_enabled"] is True
    assert app["settings"]["token_auth_method"] == "client_secret_basic"
    assert oidc.provider_origin() == shipped.MOE_SSO_SERVER_URL.rstrip("/")
