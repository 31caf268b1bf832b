import os

import pytest
from django.test import Client

from accounts.models import BusinessAccountType, Unit, UnitKind
from tests.factories import (
    AuthorityFactory,
    BusinessAccountFactory,
    MembershipFactory,
    SchoolFactory,
    UserFactory,
)

REQUIRE_SERVICES = os.environ.get("INSERVICE_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str):
    """Skip with a visible reason locally; in CI (INSERVICE_REQUIRE_SERVICES=1) a missing service fails."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no sign-in rate limit and no TOTP code marked used
    (allauth remembers a used code per user id for 30 s, and user ids repeat from test to test).
    On Redis only the cache's own keys go: the Celery broker shares the database."""
    from django.core.cache import cache

    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=cache.make_key("*")))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


def signed_in_client(user) -> Client:
    """A client signed in as the user, past the second factor (force_login skips allauth's stages)."""
    client = Client()
    client.force_login(user)
    return client


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
def operator_unit(db):
    return Unit.objects.create(code="OP9999", name="教師進修網", kind=UnitKind.OPERATOR)


@pytest.fixture
def teacher(school):
    user = UserFactory()
    MembershipFactory(person=user.person, unit=school)
    return user


def _business(unit, account_type):
    return BusinessAccountFactory(unit=unit, type=account_type).user


@pytest.fixture
def chief(school):
    return _business(school, BusinessAccountType.CHIEF)


@pytest.fixture
def contact(school):
    return _business(school, BusinessAccountType.CONTACT)


@pytest.fixture
def clerk(school):
    return _business(school, BusinessAccountType.CLERK)


@pytest.fixture
def centre(authority):
    return _business(authority, BusinessAccountType.CHIEF)


@pytest.fixture
def operator(operator_unit):
    user = _business(operator_unit, BusinessAccountType.CHIEF)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user
