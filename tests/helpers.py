"""Helpers shared by the test modules (fixtures live in tests/conftest.py)."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from core.refusals import Refused
from tests.factories import PASSWORD, TOTP_SECRET


def refusal_of(call, error=Refused) -> Refused:
    """The refusal `call()` raises (it must raise one of `error`'s kind)."""
    with pytest.raises(error) as refused:
        call()
    return refused.value


def refused_page(response, status: int, code: str) -> str:
    """A refusal answered by core.refusals.refused_response: the status and the rule's code are
    checked; returns the page's text, for the test to read the wording."""
    assert response.status_code == status, (response.status_code, response.content.decode()[:500])
    assert response.context["error_code"] == code
    return response.content.decode()


def signed_in_client(user) -> Client:
    """A client signed in as the user, past the second factor (force_login skips allauth's stages)."""
    client = Client()
    client.force_login(user)
    return client


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The authenticator app's current six-digit code for the secret. Near the end of a 30 s period
    it waits for the next one, as a person would: a code typed at :29 reaches the server after :30,
    and allauth accepts only the current period (MFA_TOTP_TOLERANCE 0)."""
    left = 30 - time.time() % 30
    if left < 5:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client: Client, login: str, password: str = PASSWORD, *, secret: str | None = None):
    """Sign in through the real pages: the password form, then the TOTP step when a secret is given."""
    response = client.post(reverse("account_login"), {"login": login, "password": password})
    if secret is not None:
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    return response


def use_moe_provider(settings, server_url: str, client_id: str, secret: str) -> None:
    """Point the MOE SSO (allauth's openid_connect app `moe`, PKCE on) and its eduinfo call at a test provider."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "SCOPE": ["openid", "email", "profile", "eduinfo"],
            "APPS": [
                {
                    "provider_id": "moe",
                    "name": "教育體系單一簽入",
                    "client_id": client_id,
                    "secret": secret,
                    "settings": {
                        "server_url": server_url,
                        "token_auth_method": "client_secret_basic",
                        "oauth_pkce_enabled": True,
                    },
                }
            ],
        }
    }
    settings.MOE_SSO_EDUINFO_URL = f"{server_url}/eduinfo"
