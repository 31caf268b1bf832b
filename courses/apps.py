from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "研習課程"

    def ready(self) -> None:
        from accounts import deletion_guards
        from courses.selectors import describe_unconfirmed_courses

        # A business account is deleted only when its courses are all 名單確認通過 (SPEC §3.2 rule 5).
        deletion_guards.register(describe_unconfirmed_courses)

        from core import dataexchange
        from courses import importers

        dataexchange.register(importers.KIND)  # SPEC §8 kind `hours`
