"""Fixtures for every app's tests: the units, one actor per role, and the owner/colleague/outsider cast.

A permission test asks for `actors("chief")` (or "teacher", "contact", "clerk", "centre") and checks the
actor against a colleague of the same unit, an outsider at another school of the same authority and a
far outsider under another authority. Helpers that are not fixtures live in tests/helpers.py.
"""

import os
from dataclasses import dataclass
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.backends.base.creation import BaseDatabaseCreation
from django.test import override_settings

from accounts.models import BusinessAccountType, Unit, UnitKind, User
from tests import template_db
from tests.factories import (
    AuthorityFactory,
    BusinessAccountFactory,
    MembershipFactory,
    SchoolFactory,
    UserFactory,
)
from tests.helpers import signed_in_client  # noqa: F401  (older test modules import it from here)

REQUIRE_SERVICES = os.environ.get("INSERVICE_REQUIRE_SERVICES") == "1"

# Tests hash thousands of passwords; the production hasher (settings.py) is slow on purpose.
# tests/accounts/test_passwords.py keeps one test on the configured hasher.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def skip_or_fail(reason: str):
    """Skip with a visible reason locally; in CI (INSERVICE_REQUIRE_SERVICES=1) a missing service fails."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


def require_postgresql(what: str) -> None:
    """Row locks, concurrency and COPY exist only on PostgreSQL: skip (or fail in CI) on SQLite."""
    if connection.vendor != "postgresql":
        skip_or_fail(f"{what} needs PostgreSQL (set DATABASE_URL); SQLite has no row locks")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """Each worker's test database is a clone of one migrated template (tests/template_db.py)."""
    with mock.patch.object(BaseDatabaseCreation, "create_test_db", template_db.create_test_db):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


def _clear_own_keys(cache: RedisCache) -> None:
    """RedisCache.clear() in the tests: this cache's keys only (its prefix). Django's clear() is FLUSHDB,
    which would also empty the Celery broker and the caches of the other workers sharing the database."""
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("*")))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session", autouse=True)
def _files_and_cache_of_this_worker(tmp_path_factory):
    """Parallel workers (pytest -n, `make quick`) each have a database of their own (pytest-django
    names it test_<name>_gw0, …); here each also gets its own media root and cache key prefix. The
    environment carries both to the processes a test starts (Celery workers, manage.py)."""
    media = tmp_path_factory.mktemp("media")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    prefix = f"test-{worker}" if worker else ""
    caches = {name: {**config, "KEY_PREFIX": prefix} for name, config in django_settings.CACHES.items()}
    saved = {key: os.environ.get(key) for key in ("DJANGO_MEDIA_ROOT", "CACHE_KEY_PREFIX")}
    os.environ.update(DJANGO_MEDIA_ROOT=str(media), CACHE_KEY_PREFIX=prefix)
    with (
        override_settings(
            MEDIA_ROOT=media,
            TRANSIENT_ROOT=media / "transient",
            ROSTER_UPLOAD_DIR=media / "transient" / "uploads",
            CACHES=caches,
        ),
        mock.patch.object(RedisCache, "clear", _clear_own_keys),
    ):
        yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no sign-in rate limit and no TOTP code marked used
    (allauth remembers a used code per user id for 30 s, and user ids repeat from test to test).
    On Redis only the cache's own keys go (_clear_own_keys): the Celery broker shares the database."""
    from django.core.cache import cache

    cache.clear()
    yield


# Units ------------------------------------------------------------------------------------------


@pytest.fixture
def authority(db):
    return AuthorityFactory()


@pytest.fixture
def school(authority):
    return SchoolFactory(authority=authority)


@pytest.fixture
def other_school(authority):
    """A school of the same authority: the outsider's unit in cross-unit tests."""
    return SchoolFactory(authority=authority)


@pytest.fixture
def other_authority(db):
    return AuthorityFactory(code="10014", name="臺東縣")


@pytest.fixture
def far_school(other_authority):
    """A school under another authority: the far outsider's unit."""
    return SchoolFactory(authority=other_authority)


@pytest.fixture
def university(db):
    return Unit.objects.create(code="0099", name="國立測試大學", kind=UnitKind.UNIVERSITY)


@pytest.fixture
def operator_unit(db):
    return Unit.objects.create(code="OP9999", name="教師進修網", kind=UnitKind.OPERATOR)


# One actor per role -----------------------------------------------------------------------------


def make_teacher(unit) -> User:
    user = UserFactory()
    MembershipFactory(person=user.person, unit=unit)
    return user


def make_business(unit, account_type) -> User:
    return BusinessAccountFactory(unit=unit, type=account_type).user


@pytest.fixture
def teacher(school):
    return make_teacher(school)


@pytest.fixture
def chief(school):
    return make_business(school, BusinessAccountType.CHIEF)


@pytest.fixture
def contact(school):
    return make_business(school, BusinessAccountType.CONTACT)


@pytest.fixture
def clerk(school):
    return make_business(school, BusinessAccountType.CLERK)


@pytest.fixture
def centre(authority):
    return make_business(authority, BusinessAccountType.CHIEF)


@pytest.fixture
def operator(operator_unit):
    user = make_business(operator_unit, BusinessAccountType.CHIEF)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def other_chief(other_school):
    """總負責人 of another school of the same authority."""
    return make_business(other_school, BusinessAccountType.CHIEF)


@pytest.fixture
def other_centre(other_authority):
    """The centre of another authority."""
    return make_business(other_authority, BusinessAccountType.CHIEF)


# Owner / colleague / outsider -------------------------------------------------------------------


@dataclass(frozen=True)
class Actors:
    """The same role four times over: the actor, a colleague of the same unit, an outsider at another
    unit of the same authority (None for a centre, which is its authority) and a far outsider under
    another authority."""

    actor: User
    colleague: User
    outsider: User | None
    far_outsider: User


_ACCOUNT_TYPES = {
    "chief": BusinessAccountType.CHIEF,
    "contact": BusinessAccountType.CONTACT,
    "clerk": BusinessAccountType.CLERK,
}


@pytest.fixture
def actors(request, school, other_school, far_school):
    """actors(role) for role in teacher, chief, contact, clerk, centre; the actor is that role's fixture."""

    def make(role: str) -> Actors:
        actor = request.getfixturevalue(role)
        if role == "teacher":
            return Actors(actor, make_teacher(school), make_teacher(other_school), make_teacher(far_school))
        if role == "centre":
            chief_type = BusinessAccountType.CHIEF
            return Actors(
                actor,
                make_business(school.authority, chief_type),
                None,
                request.getfixturevalue("other_centre"),
            )
        account_type = _ACCOUNT_TYPES[role]
        return Actors(
            actor,
            make_business(school, account_type),
            make_business(other_school, account_type),
            make_business(far_school, account_type),
        )

    return make
