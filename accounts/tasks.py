from celery import shared_task
from django.core.management import call_command

from accounts import key_rotation, security_log


@shared_task
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task
def purge_security_log() -> int:
    """Drop security audit entries older than settings.SECURITY_LOG_RETENTION_DAYS."""
    return security_log.purge()


@shared_task
def ping() -> str:
    """A no-op used by the health check and the worker integration test."""
    return "pong"


@shared_task(acks_late=True)
def rotate_national_id_keys(batch_size: int = 500) -> list[dict]:
    """Stage 3 of a national-ID key rotation (accounts.key_rotation): resumable, so a redelivered
    or restarted task continues where the last committed batch left off."""
    return [vars(p) for p in key_rotation.rotate(batch_size=batch_size)]
