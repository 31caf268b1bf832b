"""Files that carry national IDs (roster uploads, feed files): one folder under the media root,
deleted once processed by their owner and, at the latest, TRANSIENT_MAX_AGE_HOURS after they were
written (the hourly beat task inservice.tasks.purge_transient_files). `make backup` leaves it out."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings


def folder(kind: str) -> Path:
    """TRANSIENT_ROOT/<kind>, made on first use (on the volume shared by web and worker)."""
    path = Path(settings.TRANSIENT_ROOT) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def purge(*, max_age_hours: float | None = None, now: float | None = None) -> int:
    """Delete every file under TRANSIENT_ROOT older than the limit; returns how many went."""
    root = Path(settings.TRANSIENT_ROOT)
    if not root.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - 3600 * (
        settings.TRANSIENT_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    )
    removed = 0
    for path in root.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # taken by its owner meanwhile
    return removed
