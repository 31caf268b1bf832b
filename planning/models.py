"""School and teacher plans (學校本位 / 教師自我進修規劃), SPEC §6."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Unit


class Plan(models.Model):
    """What both plans share: a year, the answers, and the 確認送出 time the reward rules look at."""

    year = models.PositiveSmallIntegerField(_("學年度"))
    data = models.JSONField(_("填報內容"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("確認送出時間"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SchoolPlan(Plan):
    """學校本位進修規劃: one per school and academic year; counts once 確認送出 inside its window."""

    school = models.ForeignKey(
        Unit, verbose_name=_("學校"), on_delete=models.PROTECT, related_name="school_plans"
    )

    class Meta:
        verbose_name = _("學校本位進修規劃")
        verbose_name_plural = _("學校本位進修規劃")
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="one_school_plan_per_year")]

    def __str__(self) -> str:
        return f"{self.school} {self.year}"


class TeacherPlan(Plan):
    """教師自我進修規劃: one per person and academic year."""

    person = models.ForeignKey(
        Person, verbose_name=_("教師"), on_delete=models.PROTECT, related_name="teacher_plans"
    )

    class Meta:
        verbose_name = _("教師自我進修規劃")
        verbose_name_plural = _("教師自我進修規劃")
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="one_teacher_plan_per_year")]

    def __str__(self) -> str:
        return f"{self.person} {self.year}"
