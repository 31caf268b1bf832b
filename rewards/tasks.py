from celery import shared_task

from rewards import services


@shared_task(acks_late=False)
def run_rewards(run_id: int) -> str | None:
    """The year-end reward job (SPEC §7) for one queued run; a rerun of a taken run does nothing."""
    run = services.execute_reward_run(run_id=run_id)
    return run.status if run else None
