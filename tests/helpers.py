"""Helpers shared by the test modules (fixtures live in tests/conftest.py)."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, TOTP_SECRET


def signed_in_client(user) -> Client:
    """A client signed in as the user, past the second factor (force_login skips allauth's stages)."""
    client = Client()
    client.force_login(user)
    return client


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The authenticator app's current six-digit code for the secret."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client: Client, login: str, password: str = PASSWORD, *, secret: str | None = None):
    """Sign in through the real pages: the password form, then the TOTP step when a secret is given."""
    response = client.post(reverse("account_login"), {"login": login, "password": password})
    if secret is not None:
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    return response
