from django.apps import AppConfig


class TeachersConfig(AppConfig):
    name = "teachers"
    verbose_name = "教師資料"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from teachers.models import Membership, TeacherAccount

        # Roster and teacher-account changes go to the audit trail (SPEC §9).
        auditlog.register(Membership, m2m_fields={"subjects"})
        auditlog.register(TeacherAccount)
