"""Integration tests wait on real workers from the test process, which is never a worker itself."""

import pytest
from celery import _state as celery_state
from django.conf import settings
from django.db import connection

from tests.conftest import skip_or_fail


@pytest.fixture(autouse=True)
def _the_test_process_is_not_a_worker():
    # Celery marks a process that has built a worker's pool as "inside a worker" and then refuses
    # result.get() there (E_WOULDBLOCK). In a full run something earlier in the same process leaves
    # that mark set, and the waits below failed with "Never call result.get() within a task!";
    # here the tests only wait on workers in other processes, so the mark is cleared for each.
    celery_state._set_task_join_will_block(False)
    yield


@pytest.fixture
def services_up():
    """A real worker needs a Redis broker and a PostgreSQL database it can share with the test."""
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set: no Redis broker for a real worker")
    if connection.vendor != "postgresql":
        skip_or_fail("DATABASE_URL is not PostgreSQL: a worker process cannot share the test database")
