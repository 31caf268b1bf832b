"""A task through a real Celery worker and real Redis (skipped without REDIS_URL; CI sets it)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from accounts.tasks import ping
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_queue():
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set: no Redis broker for a real worker")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    # A queue of its own, so that no other worker on this Redis can take the test's task.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "inservice",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.integration
def test_task_runs_on_a_real_worker_through_redis(worker_queue):
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    result = ping.apply_async(queue=worker_queue)
    assert result.get(timeout=60) == "pong"
    assert result.successful()
