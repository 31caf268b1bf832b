from django.apps import AppConfig

from core import dataexchange


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "進修規劃"

    def ready(self) -> None:
        # Imported here: these modules import models, which load only once the app registry is ready.
        from planning import (
            audit,  # noqa: F401 — registers cycles and windows with the audit log
            importers,
            services,
        )
        from teachers import reassign

        dataexchange.register(importers.KIND)  # SPEC §8 kind `plans`
        # Merging two person records moves every row of this app that points at a person.
        for model, mover in services.PERSON_MOVERS.items():
            reassign.REASSIGNERS.register(mover, key=model._meta.label)
