from django.apps import AppConfig


def issued_hours_between(person_field: str, start, end):
    """Hours issued to the person of the outer row's `person_field` within [start, end] (teachers.hours)."""
    from django.db.models import DecimalField, OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce

    from courses.models import IssuedHours

    total = (
        IssuedHours.objects.filter(person_id=OuterRef(person_field), date__gte=start, date__lte=end)
        .order_by()
        .values("person_id")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0, output_field=DecimalField(max_digits=8, decimal_places=1))


def reassign_issued_hours(source, target) -> int:
    """Merging two person records (teachers.reassign): the duplicate's issued hours go to the kept one."""
    from courses.models import IssuedHours
    from teachers.services import RosterError

    rows = IssuedHours.objects.filter(person=source)
    keys = set(rows.values_list("course_id", "date"))
    if keys & set(IssuedHours.objects.filter(person=target).values_list("course_id", "date")):
        raise RosterError("兩筆人員資料在同一課程同一天都有研習時數，無法合併；請先更正研習時數。")
    return rows.update(person=target)


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "研習課程"

    def ready(self) -> None:
        from accounts import deletion_guards
        from courses.selectors import describe_unconfirmed_courses
        from teachers import hours

        # A business account is deleted only when its courses are all 名單確認通過 (SPEC §3.2 rule 5).
        deletion_guards.register(describe_unconfirmed_courses)

        from core import dataexchange
        from courses import importers

        dataexchange.register(importers.KIND)  # SPEC §8 kind `hours`
        # The roster's 依教育部統合視導 filter sums issued hours, which live here (teachers.hours).
        hours.register(issued_hours_between)

        from teachers import reassign

        reassign.register("研習時數", reassign_issued_hours)  # merging two person records

        from core import reaper
        from courses.services import UPLOAD_JOB

        reaper.register(UPLOAD_JOB)  # an attendance upload whose worker died becomes 中斷
