import logging

from celery import shared_task

from core import transient

logger = logging.getLogger(__name__)


@shared_task
def purge_transient_files() -> int:
    """Hourly: files that carry national IDs are gone a day after they were written."""
    removed = transient.purge()
    if removed:
        logger.info("purged %d transient file(s) older than the limit", removed)
    return removed
