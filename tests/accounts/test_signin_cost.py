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


@pytest.mark.django_db
def test_a_password_sign_in_checks_its_rate_limits_in_three_redis_round_trips(client, teacher):
    import redis

    from accounts import ratelimits

    if not ratelimits.uses_redis():
        pytest.skip("the portal's Redis cache is not configured")
    calls = []
    real_execute_command, real_execute = redis.Redis.execute_command, redis.client.Pipeline.execute

    def execute_command(self, *args, **kwargs):
        calls.append(args[0])
        return real_execute_command(self, *args, **kwargs)

    def execute(self, *args, **kwargs):
        calls.append("PIPELINE")
        return real_execute(self, *args, **kwargs)

    with (
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(redis.Redis, "execute_command", execute_command)
        patch.setattr(redis.client.Pipeline, "execute", execute)
        response = client.post(
            reverse("account_login"),
            {"login": teacher.username, "password": PASSWORD},
            REMOTE_ADDR="127.0.5.2",
        )
    assert response.status_code == 302
    # "login" per address, then "login_failed" per address and per account in one script, and the
    # right password rolls the two failed-sign-in hits back in one pipeline.
    assert calls.count("EVALSHA") + calls.count("EVAL") == 2
    assert calls.count("PIPELINE") == 1
    assert len(calls) <= 4  # a first EVALSHA of a fresh Redis is retried as EVAL (SCRIPT LOAD)


@pytest.mark.django_db
def test_a_sign_in_writes_its_session_row_once(client, teacher):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("account_login"),
            {"login": teacher.username, "password": PASSWORD},
            REMOTE_ADDR="127.0.5.3",
        )
    assert response.status_code == 302
    session_sql = [q["sql"] for q in queries.captured_queries if '"django_session"' in q["sql"]]
    assert len(session_sql) == 1 and session_sql[0].startswith("INSERT")
    # The session is the signed-in one, under the key of the cookie.
    assert client.get(reverse("home")).wsgi_request.user == teacher


@pytest.mark.django_db
def test_a_cycled_session_key_replaces_the_row_and_keeps_the_data():
    from django.contrib.sessions.models import Session

    from accounts.sessions import SessionStore

    session = SessionStore()
    session["a"] = 1
    session.save()
    first = session.session_key
    session.cycle_key()
    assert session.session_key != first
    assert not Session.objects.filter(session_key=first).exists()
    session.save()
    assert SessionStore(session.session_key)["a"] == 1
