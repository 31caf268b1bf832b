from django.apps import AppConfig


class TeachersConfig(AppConfig):
    name = "teachers"
    verbose_name = "教師資料"

    def ready(self) -> None:
        from core import dataexchange
        from teachers import importers

        dataexchange.register(importers.KIND)  # SPEC §8 kind `roster`
