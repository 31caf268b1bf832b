"""Reward runs and their results (獎勵方案, SPEC §7).

A year's published results are the rows of its latest completed run: a run writes them, deletes
the previous runs' rows of the year and marks itself 完成 in one transaction, so readers see
either the old complete list or the new one, never half of one. Readers select by that run.

The result tables are written in bulk (200,000 teachers a year) and only ever by the job, which
takes their ids from the tables it has just read in the same transaction; so the foreign keys
carry no database constraint or index of their own, only the composite indexes readers use.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Stage, Unit
from core.exports import StoredExport
from rewards.pr import shown_text


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("等待執行")
    RUNNING = "running", _("執行中")
    SUCCEEDED = "succeeded", _("完成")
    FAILED = "failed", _("失敗")
    INTERRUPTED = "interrupted", _("中斷")
    CANCELLED = "cancelled", _("已取消")


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunStage(models.TextChoices):
    QUEUED = "queued", _("等待工作程序")
    POPULATION = "population", _("彙計在職教師與研習時數")
    RANKING = "ranking", _("計算全國平均與百分等級")
    WRITING = "writing", _("寫入獎勵名單")
    PUBLISHING = "publishing", _("公布結果")
    DONE = "done", _("完成")


class RewardRun(models.Model):
    """獎勵作業: one run of the year-end job for one academic year."""

    year = models.PositiveSmallIntegerField(_("學年度"))
    status = models.CharField(_("狀態"), max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField(_("階段"), max_length=12, choices=RunStage.choices, default=RunStage.QUEUED)
    percent = models.PositiveSmallIntegerField(_("進度（%）"), default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("啟動者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reward_runs",
    )
    started_via = models.CharField(_("啟動方式"), max_length=20, default="web")
    class_width = models.DecimalField(_("組距 i"), max_digits=6, decimal_places=2)
    created_at = models.DateTimeField(_("建立時間"), auto_now_add=True)
    started_at = models.DateTimeField(_("開始時間"), null=True, blank=True)
    finished_at = models.DateTimeField(_("結束時間"), null=True, blank=True)
    worker = models.CharField(_("工作程序"), max_length=200, blank=True)
    summary = models.JSONField(_("摘要"), default=dict, blank=True)
    error = models.TextField(_("錯誤訊息"), blank=True)

    class Meta:
        verbose_name = _("獎勵作業")
        verbose_name_plural = _("獎勵作業")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The lock: at most one waiting or running run per year, held by the database.
            models.UniqueConstraint(
                fields=["year"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_reward_run_per_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} 學年度獎勵作業 #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def started_by_label(self) -> str:
        if self.started_by_id:
            return self.started_by.display_name
        return str(_("系統管理指令（run_rewards）")) if self.started_via == "command" else ""

    def _summary_figure(self, key: str) -> str:
        value = (self.summary or {}).get(key)
        return shown_text(Decimal(value)) if value not in (None, "") else ""

    @property
    def national_average_shown(self) -> str:
        """A as every figure is shown: 2 decimals rounded down (the stored A keeps 6)."""
        return self._summary_figure("national_average")

    @property
    def class_width_shown(self) -> str:
        return self._summary_figure("class_width")


def _fk(model, name, related):
    return models.ForeignKey(
        model,
        verbose_name=name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name=related,
    )


class Result(models.Model):
    """What every result row keeps: the run, the year and the national average A it was decided on."""

    run = _fk(RewardRun, _("獎勵作業"), "+")
    year = models.PositiveSmallIntegerField(_("學年度"))
    national_average = models.DecimalField(_("全國平均 A"), max_digits=12, decimal_places=6)
    awarded = models.BooleanField(_("獲獎"))

    class Meta:
        abstract = True

    @property
    def national_average_shown(self) -> str:
        return shown_text(self.national_average)


class RankedResult(Result):
    """Teacher and school results: a value against A and a PR within the (authority, stage) group."""

    authority = _fk(Unit, _("主管機關"), "+")
    stage = models.CharField(_("教育階段"), max_length=10, choices=Stage.choices)
    group_size = models.PositiveIntegerField(_("組內人數 N"))
    # PR rounded down to 6 decimals: rounding it down again to the 2 shown is the exact PR's.
    pr = models.DecimalField(_("百分等級 PR"), max_digits=9, decimal_places=6)
    class_lower_limit = models.DecimalField(_("真正下限 X_L"), max_digits=12, decimal_places=6)
    below = models.PositiveIntegerField(_("低於下限人數 cf_L"))
    in_class = models.PositiveIntegerField(_("同組距人數 f_x"))
    # The two conditions and the plan, decided exactly when the run computed them.
    at_least_average = models.BooleanField(_("達全國平均"))
    top_30 = models.BooleanField(_("PR ≥ 70"))
    plan_submitted_at = models.DateTimeField(_("規劃送出時間"), null=True)
    window_opens_at = models.DateTimeField(_("填報期程開始"), null=True)
    window_closes_at = models.DateTimeField(_("填報期程截止"), null=True)
    plan_in_window = models.BooleanField(_("於期程內送出"))

    class Meta:
        abstract = True

    @property
    def pr_shown(self) -> str:
        """2 decimals rounded down: a PR shown as 70.00 was awarded on that count."""
        return shown_text(self.pr)


class TeacherResult(RankedResult):
    """教師獎勵結果: one teacher of the population (category 教師 on 31 July at an in-scope school)."""

    person = _fk(Person, _("教師"), "+")
    school = _fk(Unit, _("學校"), "+")
    hours = models.DecimalField(_("研習時數"), max_digits=10, decimal_places=1)

    class Meta:
        verbose_name = _("教師獎勵結果")
        verbose_name_plural = _("教師獎勵結果")
        # Keyed by run, not year. On PostgreSQL the table is partitioned by run (migration 0003):
        # a run loads its rows into a table of its own and attaches it, indexes built in one sort.
        constraints = [models.UniqueConstraint(fields=["run", "person"], name="one_teacher_result_per_run")]
        indexes = [models.Index(fields=["run", "school"], name="rewards_teacher_run_school")]

    def __str__(self) -> str:
        # Ids only: a person's name and ID stay out of logs and admin titles.
        return f"{self.year} 教師 {self.person_id}"

    @property
    def hours_shown(self) -> str:
        return shown_text(self.hours)


class SchoolResult(RankedResult):
    """學校獎勵結果: one school with at least one population teacher."""

    school = _fk(Unit, _("學校"), "+")
    teachers = models.PositiveIntegerField(_("教師數"))
    total_hours = models.DecimalField(_("研習時數合計"), max_digits=14, decimal_places=1)
    # The average rounded down to 6 decimals; the decisions used the exact quotient.
    average = models.DecimalField(_("平均研習時數"), max_digits=12, decimal_places=6)

    class Meta:
        verbose_name = _("學校獎勵結果")
        verbose_name_plural = _("學校獎勵結果")
        constraints = [models.UniqueConstraint(fields=["run", "school"], name="one_school_result_per_run")]
        indexes = [models.Index(fields=["run", "authority"], name="rewards_school_run_authority")]

    def __str__(self) -> str:
        return f"{self.year} 學校 {self.school_id}"

    @property
    def average_shown(self) -> str:
        return shown_text(self.average)


class AuthorityResult(Result):
    """主管機關獎勵結果: the school-plan fill rate of one authority with in-scope schools."""

    authority = _fk(Unit, _("主管機關"), "+")
    schools_total = models.PositiveIntegerField(_("規劃範圍學校數"))
    schools_submitted = models.PositiveIntegerField(_("期程內送出學校數"))
    fill_rate = models.DecimalField(_("填報率"), max_digits=8, decimal_places=6)

    class Meta:
        verbose_name = _("主管機關獎勵結果")
        verbose_name_plural = _("主管機關獎勵結果")
        constraints = [
            models.UniqueConstraint(fields=["run", "authority"], name="one_authority_result_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.year} 主管機關 {self.authority_id}"

    @property
    def fill_rate_percent_shown(self) -> str:
        return shown_text(self.fill_rate * 100)


class ListExport(StoredExport):
    """獎勵名單下載: the operator's national copy, prepared by a worker (core.exports): it carries
    national IDs, so the stored file is encrypted, its requester's alone and gone after a day."""

    year = models.PositiveSmallIntegerField(_("學年度"))
    list_name = models.CharField(_("名單"), max_length=12, blank=True)  # a CSV's one list
    spec = models.BooleanField(_("SPEC §8 交換格式"), default=False)

    class Meta(StoredExport.Meta):
        verbose_name = _("獎勵名單下載")
        verbose_name_plural = _("獎勵名單下載")
