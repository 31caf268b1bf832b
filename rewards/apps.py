from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "獎勵方案"

    def ready(self) -> None:
        from core import reaper
        from rewards.services import REWARD_JOB

        reaper.register(REWARD_JOB)  # a run whose worker died becomes 中斷 (Celery beat)
