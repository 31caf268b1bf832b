from django.apps import AppConfig

from core import dataexchange, reaper


class TeachersConfig(AppConfig):
    name = "teachers"
    verbose_name = "教師資料"

    def ready(self) -> None:
        # Imported here: these modules import models, which load only once the app registry is ready.
        from auditlog.registry import auditlog

        from teachers import batch, importers
        from teachers.models import Membership, TeacherAccount

        dataexchange.register(importers.KIND)  # SPEC §8 kind `roster`
        # A 批次上傳 whose worker died, or whose task was lost, becomes 中斷 (core.reaper, Celery beat).
        reaper.JOBS.register(batch.ROSTER_UPLOAD_JOB, key=batch.ROSTER_UPLOAD_JOB.key)
        # Roster and teacher-account changes go to the audit trail (SPEC §9).
        auditlog.register(Membership, m2m_fields={"subjects"})
        auditlog.register(TeacherAccount)
