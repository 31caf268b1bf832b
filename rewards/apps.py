from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "獎勵方案"

    def ready(self) -> None:
        # Imported here: these modules import models, which load only once the app registry is ready.
        from core import exports, reaper
        from rewards import services
        from rewards.models import ListExport
        from teachers import reassign

        # Merging two person records moves the duplicate's published results (core.hooks).
        for model, mover in services.PERSON_MOVERS.items():
            reassign.REASSIGNERS.register(mover, key=model._meta.label)
        # A run whose worker died becomes 中斷 (core.reaper, Celery beat).
        reaper.JOBS.register(services.REWARD_JOB, key=services.REWARD_JOB.key)
        reaper.JOBS.register(services.LIST_EXPORT_JOB, key=services.LIST_EXPORT_JOB.key)
        # The national lists prepared by a worker are deleted, file and row, a day later (beat).
        exports.STORED_EXPORTS.register(ListExport, key=ListExport._meta.label)
