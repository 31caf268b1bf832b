from celery import shared_task

from planning import services


@shared_task
def take_due_roster_snapshots() -> list[int]:
    """Every few minutes: snapshot the roster of each cycle whose cut-off has just passed (idempotent)."""
    return services.roster_snapshots_take_due()
