"""Reads of the heavy public pages from a PostgreSQL streaming replica (docs/operations.md "Read
replica"), only where a selector asks for it by name: `queryset.using(read_alias())`.

No database router: everything else, and any read inside a transaction (the seat count of an
enrolment), stays on the primary. read_alias() answers "replica" only when DATABASE_REPLICA_URL
is set, no transaction is open on the primary, and the replica answered its last check (at most
DATABASE_REPLICA_CHECK_SECONDS old) as a standby no more than DATABASE_REPLICA_MAX_LAG_BYTES of
WAL behind the primary; otherwise the primary, so a replica that is down or lagging costs nothing
but load.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

ALIAS = "replica"
logger = logging.getLogger(__name__)
_last = {"at": float("-inf"), "usable": False}


def configured() -> bool:
    return ALIAS in settings.DATABASES


def _usable() -> bool:
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
            standby, replayed = cursor.fetchone()
        if not standby or replayed is None:
            logger.warning("read replica is not a streaming standby: reads stay on the primary")
            return False
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [replayed])
            (lag,) = cursor.fetchone()
    except DatabaseError:
        logger.warning("read replica unreachable: reads stay on the primary", exc_info=True)
        connections[ALIAS].close()
        return False
    if lag > settings.DATABASE_REPLICA_MAX_LAG_BYTES:
        logger.info("read replica %d bytes behind: reads stay on the primary", lag)
        return False
    return True


def read_alias() -> str:
    """The alias a read-only page's selector reads from."""
    if not configured() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    now = time.monotonic()
    if now - _last["at"] >= settings.DATABASE_REPLICA_CHECK_SECONDS:
        _last.update(at=now, usable=_usable())
    return ALIAS if _last["usable"] else DEFAULT_DB_ALIAS


def forget() -> None:
    """Check again at the next read (tests)."""
    _last.update(at=float("-inf"), usable=False)
