"""School and teacher plans (學校本位 / 教師自我進修規劃), SPEC §6."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import PLANNING_STAGES, Person, Stage, Unit, UnitKind

TAIPEI = ZoneInfo("Asia/Taipei")


def default_planning_stages() -> list[str]:
    return [str(stage) for stage in PLANNING_STAGES]


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


class PlanKind(models.TextChoices):
    SCHOOL = "school", _("學校本位進修規劃")
    TEACHER = "teacher", _("教師自我進修規劃")


# A window runs from 00:00 of its first day to 17:00:00 of its last day, both included (SPEC §6).
WINDOW_CLOSING_TIME = dt.time(17, 0, 0)


class PlanningCycle(models.Model):
    """進修規劃年度: one academic year's schedule (roster cut-off, stages in scope, windows)."""

    year = models.PositiveSmallIntegerField(_("學年度"), unique=True)
    roster_cutoff = models.DateTimeField(
        _("教師名單截止時間"), help_text=_("各校教師規劃名單以此時間前登錄完畢者為準")
    )
    stages = models.JSONField(
        _("規劃範圍之教育階段"),
        default=default_planning_stages,
        help_text=_("例如國小、國中、高中、高職、特殊教育學校"),
    )

    class Meta:
        verbose_name = _("進修規劃年度")
        verbose_name_plural = _("進修規劃年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 學年度"

    def clean(self):
        unknown = [stage for stage in self.stages or [] if stage not in Stage.values]
        if not isinstance(self.stages, list) or not self.stages or unknown:
            raise ValidationError({"stages": _("請以清單列出教育階段，僅限：%s") % "、".join(Stage.values)})


class PlanningWindow(models.Model):
    """填報期程: one authority's window for one kind of plan in a cycle."""

    cycle = models.ForeignKey(
        PlanningCycle, verbose_name=_("進修規劃年度"), on_delete=models.CASCADE, related_name="windows"
    )
    kind = models.CharField(_("規劃類別"), max_length=10, choices=PlanKind.choices)
    authority = models.ForeignKey(
        Unit,
        verbose_name=_("主管機關"),
        on_delete=models.PROTECT,
        related_name="planning_windows",
        limit_choices_to={"kind": UnitKind.AUTHORITY},
    )
    phase = models.PositiveSmallIntegerField(_("填寫階段"), null=True, blank=True)
    first_day = models.DateField(_("開始日期"))
    last_day = models.DateField(_("截止日期"), help_text=_("截止日 17:00:00 止"))

    class Meta:
        verbose_name = _("填報期程")
        verbose_name_plural = _("填報期程")
        ordering = ["cycle", "kind", "first_day", "authority__code"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "authority"], name="one_window_per_authority"),
            models.CheckConstraint(
                name="window_last_day_not_before_first", condition=Q(last_day__gte=F("first_day"))
            ),
            models.CheckConstraint(name="window_kind_valid", condition=Q(kind__in=PlanKind.values)),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} {self.get_kind_display()} {self.authority}"

    @property
    def opens_at(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time.min, tzinfo=TAIPEI)

    @property
    def closes_at(self) -> dt.datetime:
        return dt.datetime.combine(self.last_day, WINDOW_CLOSING_TIME, tzinfo=TAIPEI)

    def contains(self, instant: dt.datetime) -> bool:
        """The server's decision: 17:00:00 exactly counts, any later instant does not."""
        return self.opens_at <= instant <= self.closes_at
