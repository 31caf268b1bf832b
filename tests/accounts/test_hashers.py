"""Passwords are hashed with Argon2id at OWASP's parameters; older hashes upgrade at sign-in (issue 9 point 13).

These tests run on the production hasher list whatever the suite's fast test hasher is."""

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from django.conf import settings
from django.contrib.auth.hashers import get_hasher, make_password
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD

PRODUCTION_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]


def test_the_production_settings_put_argon2id_first_and_keep_pbkdf2():
    from inservice import settings as production

    assert production.PASSWORD_HASHERS == PRODUCTION_HASHERS


@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_new_hashes_are_argon2id_at_owasp_parameters():
    encoded = make_password("a-long-enough-secret")
    params = extract_parameters(encoded.removeprefix("argon2"))
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (Type.ID, 19456, 2, 1)


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_a_pbkdf2_hash_is_upgraded_at_the_next_sign_in(client, teacher):
    teacher.password = get_hasher("pbkdf2_sha256").encode(PASSWORD, "saltsaltsalt", iterations=1_000_000)
    teacher.save(update_fields=["password"])
    client.post(reverse("account_login"), {"login": teacher.username, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(teacher.pk)
    teacher.refresh_from_db()
    assert teacher.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert teacher.check_password(PASSWORD)


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_a_heavier_argon2_hash_is_brought_down_to_the_owasp_parameters(client, teacher):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    teacher.password = Argon2PasswordHasher().encode(PASSWORD, "saltsaltsalt")  # m=100 MiB, p=8
    teacher.save(update_fields=["password"])
    client.post(reverse("account_login"), {"login": teacher.username, "password": PASSWORD})
    teacher.refresh_from_db()
    assert "m=19456,t=2,p=1" in teacher.password


def test_the_compose_file_sets_the_proxy_count():
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()
    assert "DJANGO_TRUSTED_PROXY_COUNT:" in compose.split("x-app:", 1)[1]


def test_a_school_behind_one_address_may_sign_in_while_the_per_account_limit_stays():
    from allauth.account import app_settings

    rates = app_settings.RATE_LIMITS
    per_address = int(rates["login"].split("/")[0])
    assert per_address >= 300
    assert "5/300s/key" in rates["login_failed"].split(",")
