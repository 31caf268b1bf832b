"""School and teacher plans (學校本位 / 教師自我進修規劃), SPEC §6."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.masking import mask_name
from accounts.models import Person, Stage, Unit, UnitKind, User
from planning.choices import Domain, Question, valid_answer_condition
from teachers.models import Category

TAIPEI = ZoneInfo("Asia/Taipei")


class Plan(models.Model):
    """What both plans share: a year, the 確認送出 time the reward rules look at, who last saved it.

    The answers are rows (SchoolPlanAnswer / TeacherPlanAnswer), never a blob.
    """

    year = models.PositiveSmallIntegerField(_("學年度"))
    submitted_at = models.DateTimeField(_("確認送出時間"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, verbose_name=_("最後儲存者"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Granted by the operator when reopening after the window closed (SPEC §6): until this instant
    # (included) the plan may be saved and 確認送出, and a 確認送出 by then counts as inside its window.
    extended_until = models.DateTimeField(_("延長截止時間"), null=True, blank=True)

    class Meta:
        abstract = True

    def extension_open(self, at: dt.datetime) -> bool:
        return self.extended_until is not None and at <= self.extended_until

    def in_window(self, window: "PlanningWindow | None") -> bool:
        """Its 確認送出 fell inside its window, or inside the recorded extension (SPEC §6, §7)."""
        return window is not None and window.admits(self.submitted_at, self.extended_until)


class SchoolPlan(Plan):
    """學校本位進修規劃: one per school and academic year; counts once 確認送出 inside its window."""

    school = models.ForeignKey(
        Unit, verbose_name=_("學校"), on_delete=models.PROTECT, related_name="school_plans"
    )
    student_count = models.PositiveIntegerField(_("學生總數"), null=True, blank=True)

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
    # The school the teacher served at when last saving: its authority's window applies (SPEC §6),
    # and the statistics count the plan under that school's authority and stage.
    school = models.ForeignKey(
        Unit,
        verbose_name=_("服務學校"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teacher_plans",
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
    """進修規劃年度: one academic year's schedule (roster cut-off, windows).

    Which schools are in scope is no cycle's choice: SPEC §6/§7 fix it (accounts.PLANNING_STAGES).
    """

    year = models.PositiveSmallIntegerField(_("學年度"), unique=True)
    roster_cutoff = models.DateTimeField(
        _("教師名單截止時間"), help_text=_("各校教師規劃名單以此時間前登錄完畢者為準")
    )

    class Meta:
        verbose_name = _("進修規劃年度")
        verbose_name_plural = _("進修規劃年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 學年度"


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

    # The one rule "確認送出 inside the window" (SPEC §6, §7), read three ways: in Python for one
    # instant, as a Q for the ORM, as a SQL fragment for the reward job's raw SQL. Inside means from
    # the window's opening up to its close, or up to the plan's recorded extension (both included).

    def admits(self, submitted_at: dt.datetime | None, extended_until: dt.datetime | None = None) -> bool:
        """A 確認送出 at `submitted_at` (None: not submitted) counts under this window."""
        if submitted_at is None:
            return False
        if self.contains(submitted_at):
            return True
        return extended_until is not None and self.opens_at <= submitted_at <= extended_until

    def admits_q(self, prefix: str = "") -> Q:
        """The plans (reached through `prefix`, e.g. "plan__") whose 確認送出 counts under this window."""
        submitted = f"{prefix}submitted_at"
        return Q(**{f"{submitted}__gte": self.opens_at}) & (
            Q(**{f"{submitted}__lte": self.closes_at})
            | Q(**{f"{submitted}__lte": F(f"{prefix}extended_until")})
        )

    @staticmethod
    def admitted_q(windows: "dict[int, PlanningWindow]", authority_field: str, prefix: str = "") -> Q:
        """Plans counted under the window of their authority (`authority_field` names it), given the
        windows keyed by authority id; a plan of an authority without a window never counts."""
        admitted = Q(pk__in=[])
        for authority_id, window in windows.items():
            admitted |= Q(**{authority_field: authority_id}) & window.admits_q(prefix)
        return admitted

    @staticmethod
    def admits_sql(*, submitted: str, extended: str, opens: str, closes: str) -> str:
        """The same rule in SQL over four column expressions (the window's bounds already computed
        by `opens_at` / `closes_at`); false, never NULL, when any of them is NULL."""
        return f"COALESCE({submitted} >= {opens} AND ({submitted} <= {closes} OR {submitted} <= {extended}), FALSE)"


class Answer(models.Model):
    """One chosen option of one multi-choice question of a plan; the pair is checked by the database."""

    question = models.CharField(_("題目"), max_length=10, choices=Question.choices)
    option = models.CharField(_("選項"), max_length=20)

    class Meta:
        abstract = True


class SchoolPlanAnswer(Answer):
    plan = models.ForeignKey(SchoolPlan, on_delete=models.CASCADE, related_name="answers")

    class Meta:
        verbose_name = _("學校規劃選項")
        verbose_name_plural = _("學校規劃選項")
        constraints = [
            models.UniqueConstraint(fields=["plan", "question", "option"], name="school_answer_once"),
            models.CheckConstraint(name="school_answer_known_option", condition=valid_answer_condition()),
        ]
        indexes = [models.Index(fields=["question", "option"], name="school_answer_option")]

    def __str__(self) -> str:
        return f"{self.question}:{self.option}"


class TeacherPlanAnswer(Answer):
    plan = models.ForeignKey(TeacherPlan, on_delete=models.CASCADE, related_name="answers")

    class Meta:
        verbose_name = _("教師規劃選項")
        verbose_name_plural = _("教師規劃選項")
        constraints = [
            models.UniqueConstraint(fields=["plan", "question", "option"], name="teacher_answer_once"),
            models.CheckConstraint(name="teacher_answer_known_option", condition=valid_answer_condition()),
        ]
        indexes = [models.Index(fields=["question", "option"], name="teacher_answer_option")]

    def __str__(self) -> str:
        return f"{self.question}:{self.option}"


class PlannedHours(models.Model):
    """A teacher's planned hours in one domain for the year."""

    plan = models.ForeignKey(TeacherPlan, on_delete=models.CASCADE, related_name="planned_hours")
    domain = models.CharField(_("研習範疇"), max_length=20, choices=Domain.choices)
    hours = models.DecimalField(_("規劃時數"), max_digits=5, decimal_places=1)

    class Meta:
        verbose_name = _("規劃時數")
        verbose_name_plural = _("規劃時數")
        constraints = [
            models.UniqueConstraint(fields=["plan", "domain"], name="planned_hours_once_per_domain"),
            models.CheckConstraint(name="planned_hours_domain_known", condition=Q(domain__in=Domain.values)),
            models.CheckConstraint(
                name="planned_hours_in_range", condition=Q(hours__gte=0) & Q(hours__lte=999)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain} {self.hours}"


class PlanReopening(models.Model):
    """A submitted plan made a draft again, with who, when and why (and the extension, if any)."""

    kind = models.CharField(_("規劃類別"), max_length=10, choices=PlanKind.choices)
    school_plan = models.ForeignKey(
        SchoolPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="reopenings"
    )
    teacher_plan = models.ForeignKey(
        TeacherPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="reopenings"
    )
    reason = models.TextField(_("退回原因"))
    previous_submitted_at = models.DateTimeField(_("原確認送出時間"))
    extended_until = models.DateTimeField(_("延長截止時間"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        User, verbose_name=_("退回者"), on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(_("退回時間"))

    class Meta:
        verbose_name = _("規劃退回紀錄")
        verbose_name_plural = _("規劃退回紀錄")
        ordering = ["-reopened_at"]
        constraints = [
            models.CheckConstraint(
                name="reopening_one_plan",
                condition=(Q(kind="school", school_plan__isnull=False, teacher_plan__isnull=True))
                | Q(kind="teacher", school_plan__isnull=True, teacher_plan__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reopened_at:%Y-%m-%d}"


class RosterSnapshot(models.Model):
    """The roster as it stood at a cycle's cut-off, taken once; a rerun finds it and changes nothing."""

    cycle = models.OneToOneField(
        PlanningCycle, verbose_name=_("進修規劃年度"), on_delete=models.PROTECT, related_name="snapshot"
    )
    taken_at = models.DateTimeField(_("建立時間"), auto_now_add=True)

    class Meta:
        verbose_name = _("教師名單快照")
        verbose_name_plural = _("教師名單快照")

    def __str__(self) -> str:
        return f"{self.cycle} 教師名單"

    def may_be_deleted(self, at: dt.datetime) -> bool:
        """Only before the cycle's first window opens: after that, plans and fill rates rest on it."""
        first = self.cycle.windows.order_by("first_day").values_list("first_day", flat=True).first()
        if first is None:
            return True
        return at < dt.datetime.combine(first, dt.time.min, tzinfo=TAIPEI)


class SnapshotEntry(models.Model):
    """One person of an in-scope school at the cut-off, with the data as it was then (copied, not linked)."""

    snapshot = models.ForeignKey(RosterSnapshot, on_delete=models.CASCADE, related_name="entries")
    school = models.ForeignKey(Unit, verbose_name=_("學校"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, verbose_name=_("人員"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=60)
    category = models.CharField(_("類別"), max_length=10, choices=Category.choices)
    title = models.CharField(_("職稱"), max_length=60, blank=True)
    subjects = models.CharField(_("任教科目"), max_length=500, blank=True)
    start_date = models.DateField(_("到職日期"))

    class Meta:
        verbose_name = _("教師名單")
        verbose_name_plural = _("教師名單")
        ordering = ["school_id", "category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "person"], name="snapshot_person_once"),
        ]
        indexes = [models.Index(fields=["snapshot", "school"], name="snapshot_school")]

    def __str__(self) -> str:
        return f"{self.school} {self.person}"

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class SurveyResponse(models.Model):
    """滿意度問卷: short and optional, once per plan, offered after 確認送出."""

    kind = models.CharField(_("規劃類別"), max_length=10, choices=PlanKind.choices)
    school_plan = models.OneToOneField(
        SchoolPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="survey"
    )
    teacher_plan = models.OneToOneField(
        TeacherPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="survey"
    )
    year = models.PositiveSmallIntegerField(_("學年度"))
    ease = models.PositiveSmallIntegerField(_("填報操作容易"))
    usefulness = models.PositiveSmallIntegerField(_("規劃內容對專業成長有幫助"))
    comment = models.TextField(_("其他意見"), max_length=1000, blank=True)
    answered_at = models.DateTimeField(_("填答時間"), auto_now_add=True)

    class Meta:
        verbose_name = _("滿意度問卷")
        verbose_name_plural = _("滿意度問卷")
        constraints = [
            models.CheckConstraint(
                name="survey_one_plan",
                condition=(Q(kind="school", school_plan__isnull=False, teacher_plan__isnull=True))
                | (Q(kind="teacher", teacher_plan__isnull=False, school_plan__isnull=True)),
            ),
            models.CheckConstraint(
                name="survey_scores_1_to_5",
                condition=Q(ease__gte=1, ease__lte=5, usefulness__gte=1, usefulness__lte=5),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year}"


class StatisticsPublication(models.Model):
    """統計專區: the operator publishes a cycle's aggregated needs; public from then on."""

    cycle = models.OneToOneField(PlanningCycle, on_delete=models.CASCADE, related_name="publication")
    published_at = models.DateTimeField(_("公告時間"))

    class Meta:
        verbose_name = _("統計專區公告")
        verbose_name_plural = _("統計專區公告")

    def __str__(self) -> str:
        return f"{self.cycle} 統計專區"


class Announcement(models.Model):
    """最新消息: dated, by the operator (everyone) or an authority (its own schools and the public)."""

    unit = models.ForeignKey(Unit, verbose_name=_("發布單位"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("標題"), max_length=200)
    body = models.TextField(_("內容"), blank=True)
    published_on = models.DateField(_("發布日期"))
    attachment = models.FileField(_("附件"), upload_to="announcements/%Y/", blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("最新消息")
        verbose_name_plural = _("最新消息")
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return self.title


class NeedCount(models.Model):
    """統計專區: how many submitted teacher plans chose an option, per authority and stage.

    Written when the operator publishes a cycle, so the public page reads a few hundred rows
    instead of aggregating every answer of the year.
    """

    publication = models.ForeignKey(StatisticsPublication, on_delete=models.CASCADE, related_name="counts")
    authority = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("教育階段"), max_length=10, choices=Stage.choices)
    question = models.CharField(_("題目"), max_length=10, choices=Question.choices)
    option = models.CharField(_("選項"), max_length=20)
    plans = models.PositiveIntegerField(_("規劃份數"))

    class Meta:
        verbose_name = _("需求統計")
        verbose_name_plural = _("需求統計")
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "authority", "stage", "question", "option"], name="need_count_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authority} {self.stage} {self.question}:{self.option} {self.plans}"
