from django.apps import AppConfig

from core import dataexchange


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "帳號與單位"

    def ready(self) -> None:
        # Imported here: these modules import models, which load only once the app registry is ready.
        from accounts import (
            audit,  # noqa: F401 — registers models with the audit log
            checks,  # noqa: F401 — the deploy checks of the shared cache
            importers,
            ratelimits,
            security_log,  # noqa: F401 — connects the sign-in receivers
        )

        ratelimits.install()  # allauth's rate limits in one Redis round trip per check
        dataexchange.register(importers.KIND)  # SPEC §8 kind `units`
