from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "進修規劃"

    def ready(self) -> None:
        from core import dataexchange
        from planning import importers

        dataexchange.register(importers.KIND)  # SPEC §8 kind `plans`
