"""One file of one kind in or out, from a command, a Celery task or a web upload."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction

from core.dataexchange.errors import ErrorList, ImportRefused
from core.dataexchange.reading import Table
from core.dataexchange.registry import get_kind
from core.dataexchange.run import ImportResult, ImportRun
from core.dataexchange.staging import analyse, is_postgresql, tune_session

logger = logging.getLogger(__name__)

MSG_DATABASE_REFUSED = "資料庫拒絕寫入（{error}），未寫入任何資料。請將檔案與時間告知系統管理者。"
MSG_BULK_NEEDS_POSTGRESQL = "--bulk 只適用於 PostgreSQL"
# The importers join national IDs by the writer key's digest alone: while a look-up key rotation
# is under way (several NATIONAL_ID_HMAC_KEYS) they would miss people stored under the old one.
MSG_REKEYING = "身分證字號查詢金鑰輪替進行中，匯入暫停；輪替完成後再匯入（docs/operations.md）"


def import_file(kind: str, source, *, bulk: bool = False, unit_id: int | None = None) -> ImportResult:
    """Import a file of one kind, all or nothing: from a command, a Celery task or a web upload.

    `source` is a path or an open binary file with a name ending .csv or .xlsx (a Django upload).
    Returns the ImportResult; raises ImportRefused, whose `messages` list every bad row, when the
    file is refused (nothing written). `bulk` (PostgreSQL only) rebuilds the keys and indexes of
    the kind's `bulk_tables` once instead of row by row, locking them until the import commits:
    for a first national load, at the operator's explicit request only. `unit_id` is the unit a
    school's own upload speaks for (ImportRun.unit_id).
    """
    spec = get_kind(kind)
    if len(getattr(settings, "NATIONAL_ID_HMAC_KEYS", None) or ()) > 1:
        refused = ErrorList()
        refused.add(0, MSG_REKEYING)
        raise ImportRefused(refused)
    if bulk and not is_postgresql(connection):
        raise ValueError(MSG_BULK_NEEDS_POSTGRESQL)
    run = ImportRun(spec.name, connection, bulk=bulk, unit_id=unit_id)
    table = Table(
        source, spec.columns, errors=run.errors, notices=run.notices, optional_columns=spec.optional_columns
    )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            tune_session(connection)
            counts = spec.import_rows(run, table)
            run.refuse_if_errors()
    except (IntegrityError, DataError) as exc:
        # A case the checks did not foresee; the database's own message is not shown, since it
        # may quote the offending values (national IDs).
        logger.exception("import of %s refused by the database", spec.name)
        errors = ErrorList()
        errors.add(0, MSG_DATABASE_REFUSED.format(error=type(exc).__name__))
        raise ImportRefused(errors) from None
    finally:
        run.drop_tables()
    if any(count for name, count in counts.items() if "unchanged" not in name):
        analyse(connection, spec.changed_tables)
    return ImportResult(
        kind=spec.name,
        counts=counts,
        labels=spec.count_labels,
        notices=run.notices,
        phases=run.phases,
        seconds=time.perf_counter() - started,
        bulk=bulk,
    )


def export_file(kind: str, path) -> int:
    """Write every record of a kind to .csv or .xlsx in its import format; returns the row count."""
    return get_kind(kind).export(Path(path))
