"""Real Celery worker processes for the integration tests: started on a queue of the test's own,
with the test database's URL, stopped (killed if need be) when the test ends."""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def own_queue(prefix: str) -> str:
    """A queue name no other test or worker uses."""
    return f"test-{prefix}-{uuid.uuid4().hex[:8]}"


def task_on_own_queue(monkeypatch, task, prefix: str) -> str:
    """`task.delay(...)` sends to a queue of this test's own, which only its workers read."""
    queue = own_queue(prefix)
    monkeypatch.setattr(task, "delay", lambda *args: task.apply_async(args, queue=queue))
    return queue


@contextlib.contextmanager
def workers_on(queue):
    """start(**env) -> a real worker process on `queue`; every worker started is stopped on exit."""
    processes = []

    def start(**extra_env):
        env = {**os.environ, "DATABASE_URL": _database_url(), **extra_env}
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "inservice", "worker", "--pool=solo", "-Q", queue,
             "--loglevel=warning"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(process)
        return process

    try:
        yield start
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def wait(predicate, timeout=120, what="condition"):
    """The first true value of predicate(), polled; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")
