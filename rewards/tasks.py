from celery import shared_task

from rewards import services


@shared_task(acks_late=False)
def run_rewards(run_id: int) -> str | None:
    """The year-end reward job (SPEC §7) for one queued run; a rerun of a taken run does nothing."""
    run = services.reward_run_execute(run_id=run_id)
    return run.status if run else None


@shared_task(acks_late=False)
def produce_list_export(export_id: int) -> bool:
    """The operator's national list, written encrypted (core.exports); a rerun does nothing."""
    return services.list_export_produce(export_id=export_id)
