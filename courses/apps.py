from django.apps import AppConfig

from core import dataexchange, reaper


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "研習課程"

    def ready(self) -> None:
        # Hooks of the layers below (core.hooks), implemented in this app's services and selectors.
        # Imported here: these modules import models, which load only once the app registry is ready.
        from accounts import deletion_guards
        from courses import feedback, importers, selectors, services
        from teachers import hours, reassign

        # A business account is deleted only when its courses are all 名單確認通過 (SPEC §3.2 rule 5).
        deletion_guards.GUARDS.register(selectors.describe_unconfirmed_courses)
        dataexchange.register(importers.KIND)  # SPEC §8 kind `hours`
        # The roster's 依教育部統合視導 filter sums issued hours, which live here.
        hours.HOURS.register(selectors.issued_hours_in_year)
        # Merging two person records moves every row of this app that points at a person.
        for model, mover in {**services.PERSON_MOVERS, **feedback.PERSON_MOVERS}.items():
            reassign.REASSIGNERS.register(mover, key=model._meta.label)
        # An attendance upload whose worker died becomes 中斷 (core.reaper, Celery beat).
        reaper.JOBS.register(services.UPLOAD_JOB, key=services.UPLOAD_JOB.key)
