from celery import shared_task
from django.core.management import call_command


@shared_task
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task
def purge_security_log() -> int:
    """Drop security audit entries older than settings.SECURITY_LOG_RETENTION_DAYS."""
    from accounts import security_log

    return security_log.purge()


@shared_task
def ping() -> str:
    """A no-op used by the health check and the worker integration test."""
    return "pong"
