"""Passwords are stored with the hasher settings.py configures (the suite itself runs on a fast one)."""

from django.conf import global_settings
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.test import override_settings
from django.utils.module_loading import import_string

import inservice.settings
from tests.conftest import FAST_PASSWORD_HASHERS

CONFIGURED_HASHERS = getattr(inservice.settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)


def test_the_suite_runs_on_the_fast_hasher_not_the_production_one():
    assert get_hasher().algorithm == import_string(FAST_PASSWORD_HASHERS[0]).algorithm
    assert CONFIGURED_HASHERS[0] not in FAST_PASSWORD_HASHERS


def test_passwords_round_trip_through_the_configured_production_hasher():
    with override_settings(PASSWORD_HASHERS=CONFIGURED_HASHERS):
        production = import_string(CONFIGURED_HASHERS[0])
        encoded = make_password("a-long-enough-secret")
        assert identify_hasher(encoded).algorithm == production.algorithm
        assert check_password("a-long-enough-secret", encoded)
        assert not check_password("a-long-enough-secreT", encoded)
