"""SPEC §9 baseline: production settings, headers, no inline script."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.helpers import signed_in_client

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x9!prod-secret-for-the-check-only-" + "k" * 40,
    "DJANGO_ALLOWED_HOSTS": "inservice.example.tw,www.inservice.example.tw",
    "NATIONAL_ID_HMAC_KEY": "prod-hmac",
    "NATIONAL_ID_FERNET_KEY": "dGVzdC1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZSE=",
    # Production needs a shared cache for the sign-in limits (accounts.checks); not connected here.
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.mark.live
def test_production_mode_passes_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.live
def test_production_mode_refuses_to_start_without_a_secret_key():
    env = dict(PRODUCTION)
    del env["DJANGO_SECRET_KEY"]
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


@pytest.mark.live
def test_debug_flag_is_strict():
    result = run_manage("check", DJANGO_DEBUG="yes")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be 0 or 1" in result.stderr


@pytest.mark.django_db
def test_csp_and_security_headers(client):
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


INLINE_SCRIPT = re.compile(r'<script(?![^>]*\b(?:src=|type="application/json"))[^>]*>', re.IGNORECASE)


@pytest.mark.django_db
def test_pages_carry_no_inline_script(client, chief, teacher):
    pages = [reverse("home"), reverse("account_login"), reverse("account_reset_password")]
    for path in pages:
        assert not INLINE_SCRIPT.search(client.get(path).content.decode()), path
    for user, path in [
        (teacher, "/me/profile/"),
        (chief, "/unit/accounts/"),
        (chief, reverse("account_email")),
    ]:
        html = signed_in_client(user).get(path).content.decode()
        assert not INLINE_SCRIPT.search(html), path
