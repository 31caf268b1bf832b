from django.apps import AppConfig


def reassign_teacher_plans(source, target) -> int:
    """Merging two person records (teachers.reassign): the duplicate's plans go to the kept one."""
    from planning.models import TeacherPlan
    from teachers.services import RosterError

    rows = TeacherPlan.objects.filter(person=source)
    if TeacherPlan.objects.filter(person=target, year__in=rows.values("year")).exists():
        raise RosterError("兩筆人員資料在同一學年度都有教師自我進修規劃，無法合併；請先處理其中一份。")
    return rows.update(person=target)


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "進修規劃"

    def ready(self) -> None:
        from core import dataexchange
        from planning import (
            audit,  # noqa: F401 — registers cycles and windows with the audit log
            importers,
        )

        dataexchange.register(importers.KIND)  # SPEC §8 kind `plans`

        from teachers import reassign

        reassign.register("教師自我進修規劃", reassign_teacher_plans)  # merging two person records
