"""RabbitMQ as the broker (docs/operations.md "Broker"): kombu speaks AMQP as it speaks Redis, so
a site that wants a durable queue sets CELERY_BROKER_URL=amqp://… and nothing else changes.

Against the RabbitMQ server of these machines (RABBITMQ_URL, default guest on 127.0.0.1:5672):
skipped when it cannot be reached, failed instead in CI (.ci/run starts it)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection, Queue

from inservice.celery import app
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def rabbitmq():
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set: the results of a RabbitMQ-brokered task stay in Redis")
    try:
        with Connection(RABBITMQ_URL, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:  # kombu raises the transport's own errors
        skip_or_fail(f"RabbitMQ not reachable at {RABBITMQ_URL.rsplit('@', 1)[-1]}: {error}")
    return RABBITMQ_URL


@pytest.mark.integration
def test_a_task_queued_on_rabbitmq_waits_for_a_worker_and_runs(rabbitmq):
    queue = f"test-rabbit-{uuid.uuid4().hex[:8]}"
    with Connection(rabbitmq) as connection:
        # Sent before any worker exists: the durable queue keeps it (persistent delivery).
        result = app.send_task("accounts.tasks.ping", queue=queue, connection=connection)
        declared = Queue(queue, durable=True, channel=connection.channel())
        assert declared.queue_declare(passive=True).message_count == 1
        worker = subprocess.Popen(
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
            env={**os.environ, "CELERY_BROKER_URL": rabbitmq},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert result.get(timeout=300) == "pong"  # a worker starting on a loaded machine
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
            declared.delete()
