from django.apps import AppConfig


class TeachersConfig(AppConfig):
    name = "teachers"
    verbose_name = "教師資料"

    def ready(self) -> None:
        from core import dataexchange
        from teachers import importers

        dataexchange.register(importers.KIND)  # SPEC §8 kind `roster`

        from auditlog.registry import auditlog

        from teachers.models import Membership, TeacherAccount

        # Roster and teacher-account changes go to the audit trail (SPEC §9).
        auditlog.register(Membership, m2m_fields={"subjects"})
        auditlog.register(TeacherAccount)
