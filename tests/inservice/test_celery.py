import pytest
from django.conf import settings

from accounts.tasks import ping
from inservice.celery import app


def test_tasks_are_discovered_per_app():
    app.loader.import_default_modules()
    assert "accounts.tasks.ping" in app.tasks
    assert "accounts.tasks.clear_expired_sessions" in app.tasks


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_without_redis_tasks_run_eagerly(settings):
    if settings.REDIS_URL:
        pytest.skip("REDIS_URL is set: tests/integration/test_worker.py runs tasks on a real worker")
    assert ping.delay().get(timeout=5) == "pong"
