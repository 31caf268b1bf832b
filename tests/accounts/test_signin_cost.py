"""A sign-in costs little beside its password hash (issue 22 point 5): what was found and removed."""

import pytest
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PASSWORD

PORTAL_REDIS = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/0"}}


def test_the_redis_cache_reuses_one_client_instead_of_building_one_per_call(settings):
    settings.CACHES = PORTAL_REDIS
    caches._settings = None  # re-read the setting
    cache = caches.create_connection("default")
    client = cache._cache.get_client("a", write=True)
    assert cache._cache.get_client("b", write=True) is client
    assert cache._cache.get_client("c") is client  # one server: reads and writes share its pool


def test_the_portal_cache_counts_as_shared_for_the_rate_limits(settings):
    from accounts.checks import shared_cache_problem

    settings.CACHES = PORTAL_REDIS
    assert shared_cache_problem() is None


@pytest.mark.django_db
def test_the_signed_in_message_is_rendered_without_the_menu_queries(client, teacher):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("account_login"),
            {"login": teacher.username, "password": PASSWORD},
            REMOTE_ADDR="127.0.5.1",
        )
    assert response.status_code == 302
    (message,) = list(get_messages(response.wsgi_request))
    assert teacher.username in str(message)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    # The navigation context processor reads the planning cycle and the business accounts.
    assert "planning_planningcycle" not in sql and "accounts_businessaccount" not in sql
    # The account behind the typed name is looked up once for the failed-sign-in limit and its rollback.
    typed_name_lookups = [
        q for q in queries.captured_queries if 'UPPER("account_emailaddress"."email"' in q["sql"]
    ]
    assert len(typed_name_lookups) == 1
