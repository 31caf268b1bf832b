"""One reaper for every background job (issue 17 point 5, issue 18 point 7).

A job whose worker died (kill -9, a lost machine, an out-of-memory kill) would stay 處理中 for ever.
Each app registers its job model in `JOBS` with how to tell a live job from an orphan; the Celery beat
entry `reap-interrupted-jobs` runs `reap_all` every minute (never a page view) and marks every
orphan 中斷 with a message, through a conditional UPDATE, so a job that finishes at that moment
keeps its own result.

How liveness is known:
- On PostgreSQL the worker holds a session advisory lock keyed (kind's lock class, job id) while it
  works (`held`); a killed worker's connection drops and PostgreSQL frees the lock, so a running
  job whose lock is free has no worker. Nothing depends on clocks.
- Elsewhere (SQLite, one process) a job whose heartbeat field is older than `stale_after` is dead,
  unless the kind brings its own `alive` test.

A job still waiting for a worker (排隊中) whose task message was lost (the broker restarted without
persistence) would wait for ever too: a kind that gives `queued` has every such row older than
`queued_timeout` (from the first set field of `queued_since`) that no worker holds marked `lost`,
through the same conditional UPDATE, so a worker that claims it at that moment keeps it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from celery import shared_task
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from core.hooks import Hook

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    """A kind of background job the reaper watches."""

    key: str
    model: type[Model]
    # Filter of the rows a worker is (said to be) working on: {"status": "running"}.
    working: dict
    # What an orphan becomes: {"status": "interrupted", "error": "…"}; a callable gets the row.
    interrupted: dict | Callable[[Model], dict]
    # First key of pg_advisory_lock(class, id) the worker holds while it works (PostgreSQL).
    lock_class: int | None = None
    # A DateTimeField the worker refreshes while it works; the fallback liveness test.
    heartbeat_field: str | None = None
    stale_after: dt.timedelta = dt.timedelta(minutes=5)
    # A liveness test of the kind's own (replaces the two above when given).
    alive: Callable[[Model], bool] | None = None
    # Called with the row once it has been marked interrupted or lost (a mail, a file to delete).
    on_interrupted: Callable[[Model], None] | None = None
    # Filter of the rows waiting for a worker ({"status": "queued"}); None: not watched.
    queued: dict | None = None
    # What a row waiting longer than `queued_timeout` becomes (its task message is taken as lost).
    lost: dict | Callable[[Model], dict] | None = None
    queued_timeout: dt.timedelta = dt.timedelta(minutes=30)
    # Since when a row has waited: the first of these DateTimeFields that is set.
    queued_since: tuple[str, ...] = ("created_at",)


# How long an upload or import may wait 排隊中 before its task message is taken as lost: past a
# task's hard limit (60 min) ahead in the queue. Every upload kind uses this one timeout.
UPLOAD_QUEUE_TIMEOUT = dt.timedelta(minutes=90)


# Every app's job kinds, registered from its AppConfig.ready() (core.hooks).
JOBS = Hook("core.reaper.jobs", many=True)


def kinds() -> list[JobKind]:
    return JOBS.values()


# Advisory locks ------------------------------------------------------------------------------


@contextmanager
def held(lock_class: int, job_id: int) -> Iterator[None]:
    """The worker's side: hold the job's advisory lock (PostgreSQL) for as long as it works."""
    pg = connection.vendor == "postgresql"
    if pg:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [lock_class, job_id])
    try:
        yield
    finally:
        if pg:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, job_id])
            except Exception:  # the connection is gone: so is the lock
                logger.warning("job lock (%s, %s) not released explicitly", lock_class, job_id)


def lock_is_held(lock_class: int, job_id: int) -> bool:
    """Whether some session (a live worker) holds the job's advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, job_id])
        (free,) = cursor.fetchone()
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, job_id])
    return not free


# The reaper ----------------------------------------------------------------------------------


def _is_alive(kind: JobKind, row: Model, now: dt.datetime) -> bool:
    if kind.alive is not None:
        return kind.alive(row)
    if kind.lock_class is not None and connection.vendor == "postgresql":
        return lock_is_held(kind.lock_class, row.pk)
    if kind.heartbeat_field is not None:
        beat = getattr(row, kind.heartbeat_field)
        return beat is not None and now - beat < kind.stale_after
    return True  # nothing tells: never reap on a guess


def reap(kind: JobKind) -> list[Model]:
    """Mark 中斷 every working row of `kind` whose worker is gone; returns those rows."""
    now = timezone.now()
    reaped = []
    for row in kind.model._default_manager.filter(**kind.working):
        if _is_alive(kind, row, now):
            continue
        values = kind.interrupted(row) if callable(kind.interrupted) else kind.interrupted
        changed = kind.model._default_manager.filter(pk=row.pk, **kind.working).update(**values)
        if not changed:  # it finished meanwhile
            continue
        row.refresh_from_db()
        logger.warning("%s %s: its worker is gone; marked interrupted", kind.key, row.pk)
        if kind.on_interrupted is not None:
            kind.on_interrupted(row)
        reaped.append(row)
    return reaped


def _waited_since(kind: JobKind, row: Model) -> dt.datetime | None:
    return next((value for name in kind.queued_since if (value := getattr(row, name)) is not None), None)


def reap_lost(kind: JobKind) -> list[Model]:
    """Mark `lost` every row of `kind` still waiting for a worker after `queued_timeout` (its task
    message never arrived); returns those rows."""
    if kind.queued is None or kind.lost is None:
        return []
    cutoff = timezone.now() - kind.queued_timeout
    reaped = []
    for row in kind.model._default_manager.filter(**kind.queued):
        since = _waited_since(kind, row)
        if since is None or since > cutoff:
            continue
        if kind.lock_class is not None and connection.vendor == "postgresql":
            if lock_is_held(kind.lock_class, row.pk):
                continue  # a worker is claiming it right now
        values = kind.lost(row) if callable(kind.lost) else kind.lost
        if not kind.model._default_manager.filter(pk=row.pk, **kind.queued).update(**values):
            continue  # a worker claimed it meanwhile
        row.refresh_from_db()
        logger.warning(
            "%s %s: queued since %s and never started; marked interrupted", kind.key, row.pk, since
        )
        if kind.on_interrupted is not None:
            kind.on_interrupted(row)
        reaped.append(row)
    return reaped


def reap_all() -> dict[str, int]:
    """Every registered kind, one after the other; one kind's failure does not stop the others."""
    counts = {}
    for kind in kinds():
        try:
            counts[kind.key] = len(reap(kind)) + len(reap_lost(kind))
        except Exception:
            logger.exception("reaping %s failed", kind.key)
            counts[kind.key] = -1
    return counts


@shared_task(name="core.reaper.reap_interrupted_jobs")
def reap_interrupted_jobs() -> dict[str, int]:
    """Celery beat, every minute (settings.CELERY_BEAT_SCHEDULE)."""
    return reap_all()
