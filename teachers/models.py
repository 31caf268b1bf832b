"""The roster: dated memberships of people in units (service history, SPEC §3.1), teacher accounts
(教師個人帳號) and the record of roster downloads."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Unit


class Category(models.TextChoices):
    TEACHER = "教師", _("教師")
    STAFF = "行政職員", _("行政職員")


class EndReason(models.TextChoices):
    """Why a membership ended: the notice's 離職/轉校/退休, plus what the data itself needs."""

    LEFT = "離職", _("離職")
    TRANSFERRED = "轉校", _("轉校")
    RETIRED = "退休", _("退休")
    IMPORTED = "資料匯入", _("資料匯入")  # ended in the old system's file, reason not given
    CORRECTED = "更正", _("更正")  # a wrong period closed by the operator


# The reasons a school's manager records under 離職/轉校/退休.
MANAGER_END_REASONS = (EndReason.LEFT, EndReason.TRANSFERRED, EndReason.RETIRED)


class Subject(models.Model):
    """任教科目: the reference list of subjects a teacher may teach (several per membership)."""

    name = models.CharField(_("科目"), max_length=30, unique=True)
    # The stages whose reference list holds the subject, e.g. "國小,國中"; empty for a subject
    # that only came in through an import (still valid, never offered in the forms).
    stages = models.CharField(_("教育階段"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("任教科目")
        verbose_name_plural = _("任教科目")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def subjects_for_stage(stage: str):
    """The reference list offered to a school of this stage (every listed subject when unknown)."""
    listed = Subject.objects.exclude(stages="")
    if stage:
        return listed.filter(stages__contains=stage)
    return listed


class MembershipQuerySet(models.QuerySet):
    def current(self):
        return self.filter(end_date__isnull=True)

    def on(self, day):
        """Memberships in force on a given day."""
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))

    def overlapping(self, *, person, start, end, exclude_pk=None):
        """Memberships of the person whose period shares at least one day with [start, end]."""
        qs = self.filter(person=person).filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        if end is not None:
            qs = qs.filter(start_date__lte=end)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        return qs


class Membership(models.Model):
    """服務單位: one period of a person's service at a unit; ended, never overwritten."""

    person = models.ForeignKey(
        Person, verbose_name=_("人員"), on_delete=models.PROTECT, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("服務單位"), on_delete=models.PROTECT, related_name="memberships"
    )
    category = models.CharField(_("類別"), max_length=10, choices=Category.choices, default=Category.TEACHER)
    title = models.CharField(_("職稱"), max_length=60, blank=True)
    subjects = models.ManyToManyField(
        Subject, verbose_name=_("任教科目"), blank=True, related_name="memberships"
    )
    start_date = models.DateField(_("到職日期"))
    end_date = models.DateField(_("離職日期"), null=True, blank=True)
    # NULL, not "", while serving: the check constraint below ties it to end_date (both null or both set).
    end_reason = models.CharField(  # noqa: DJ001
        _("異動原因"), max_length=20, choices=EndReason.choices, null=True, blank=True
    )
    # Where the membership came from: 教師資料登錄, 資料匯入, 帳號漫遊, a nightly feed…
    source = models.CharField(_("資料來源"), max_length=30, blank=True, default="")
    # Set when the unit's manager ended it (離職/轉校/退休): the unit may undo its own recent ending.
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("轉出者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("轉出時間"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("服務紀錄")
        verbose_name_plural = _("服務紀錄")
        ordering = ["person_id", "start_date"]
        constraints = [
            models.CheckConstraint(
                name="membership_end_not_before_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
            ),
            # An end has a reason from the fixed list, and a reason an end: both set or both empty.
            models.CheckConstraint(
                name="membership_end_reason_with_end_date",
                condition=Q(end_date__isnull=True, end_reason__isnull=True)
                # (end_reason IS NOT NULL too: a CHECK passes when its condition is NULL.)
                | Q(end_date__isnull=False, end_reason__isnull=False, end_reason__in=EndReason.values),
            ),
            models.CheckConstraint(
                name="membership_category_valid", condition=Q(category__in=Category.values)
            ),
            # A person serves at one unit at a time: moving ends the old membership first.
            # (No two periods may overlap at all: an exclusion constraint on PostgreSQL, migration
            # 0004, and the same check in every writer, since SQLite has no such constraint.)
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(end_date__isnull=True),
                name="one_current_membership_per_person",
            ),
            models.UniqueConstraint(fields=["person", "unit", "start_date"], name="membership_natural_key"),
        ]
        indexes = [
            models.Index(fields=["unit", "end_date"]),
            # The current roster of a unit (本單位教師帳號管理, the download).
            models.Index(
                fields=["unit"], condition=Q(end_date__isnull=True), name="membership_current_roster"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.unit}"

    def get_additional_data(self):
        """What the audit trail (django-auditlog) records beside a change: e.g. 更正 for an undone ending."""
        note = getattr(self, "audit_note", "")
        return {"異動": str(note)} if note else None


class AccountStatus(models.TextChoices):
    """帳號狀況 as the notice shows it; 待申請 is a person without a teacher account."""

    PENDING = "pending", _("待申請")
    ACTIVE = "active", _("啟用中")
    DISABLED = "disabled", _("停用中")


class TeacherAccount(models.Model):
    """教師個人帳號: the one teacher sign-in of a person (停用中: the sign-in is inactive)."""

    person = models.OneToOneField(
        Person, verbose_name=_("人員"), on_delete=models.PROTECT, related_name="teacher_account"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("使用者帳號"),
        on_delete=models.PROTECT,
        related_name="teacher_account",
    )
    status = models.CharField(_("帳號狀況"), max_length=10, choices=AccountStatus.choices)
    enabled_at = models.DateTimeField(_("啟用時間"), null=True, blank=True)
    enabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("啟用者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("教師帳號")
        verbose_name_plural = _("教師帳號")
        constraints = [
            # A row exists once an account exists: 待申請 is the absence of one.
            models.CheckConstraint(
                name="teacher_account_status_valid",
                condition=Q(status__in=[AccountStatus.ACTIVE, AccountStatus.DISABLED]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}（{self.get_status_display()}）"


class ApplicationStatus(models.TextChoices):
    WAITING = "waiting", _("等待啟用")
    ACTIVATED = "activated", _("已啟用")
    SUPERSEDED = "superseded", _("已失效")


class TeacherApplication(models.Model):
    """申請教師帳號: chosen credentials waiting for activation (roster e-mail link or the unit's manager).

    Only stored when the national ID and name match a person on a roster; the application changes
    no roster data and takes no username or address until it is activated, so nobody can squat
    another teacher's account by applying first.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="teacher_applications")
    username = models.CharField(_("使用者帳號"), max_length=150)
    email = models.EmailField(_("電子郵件"))
    password = models.CharField(max_length=128)  # a Django password hash, never the password
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.WAITING
    )
    created_at = models.DateTimeField(_("申請時間"), auto_now_add=True)

    class Meta:
        verbose_name = _("教師帳號申請")
        verbose_name_plural = _("教師帳號申請")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.person} {self.username}"


class RosterDownload(models.Model):
    """資料下載: who downloaded which unit's roster and when (it carries national IDs)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="roster_downloads")
    at = models.DateTimeField(_("下載時間"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("筆數"), default=0)

    class Meta:
        verbose_name = _("教師名單下載紀錄")
        verbose_name_plural = _("教師名單下載紀錄")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.unit} {self.at:%Y-%m-%d %H:%M}"


class FeedSource(models.TextChoices):
    """The outside rosters synchronised every night (SPEC §3.1, docs/feeds.md)."""

    KINDERGARTEN = "ece", _("全國教保資訊網")
    TAIPEI = "taipei", _("臺北市教師研習網")


class FeedRunStatus(models.TextChoices):
    RUNNING = "running", _("執行中")
    SUCCEEDED = "succeeded", _("完成")
    FAILED = "failed", _("失敗")


class FeedRun(models.Model):
    """One nightly synchronisation of one source: what it added, moved, ended and refused.

    The refusals hold a line number and a reason only, never a national ID. While the run is in
    progress the figure of rows done lives in the cache (the run applies in one transaction, which
    other connections cannot see); `processed` is its final value.
    """

    source = models.CharField(_("資料來源"), max_length=10, choices=FeedSource.choices)
    status = models.CharField(
        _("狀態"), max_length=10, choices=FeedRunStatus.choices, default=FeedRunStatus.RUNNING
    )
    started_at = models.DateTimeField(_("開始時間"), auto_now_add=True)
    finished_at = models.DateTimeField(_("結束時間"), null=True, blank=True)
    total = models.PositiveIntegerField(_("資料筆數"), default=0)
    processed = models.PositiveIntegerField(_("已處理筆數"), default=0)
    added = models.PositiveIntegerField(_("新增"), default=0)
    moved = models.PositiveIntegerField(_("轉入"), default=0)
    ended = models.PositiveIntegerField(_("離職"), default=0)
    updated = models.PositiveIntegerField(_("資料更新"), default=0)
    unchanged = models.PositiveIntegerField(_("無異動"), default=0)
    pending = models.PositiveIntegerField(_("待審核（略過）"), default=0)
    refused = models.PositiveIntegerField(_("退回"), default=0)
    refusals = models.JSONField(_("退回原因"), default=list, blank=True)  # [[line, reason], …]
    error = models.TextField(_("失敗原因"), blank=True, default="")

    class Meta:
        verbose_name = _("夜間同步紀錄")
        verbose_name_plural = _("夜間同步紀錄")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="feed_run_source_valid", condition=Q(source__in=FeedSource.values)),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.started_at:%Y-%m-%d %H:%M}"


class UploadStatus(models.TextChoices):
    QUEUED = "queued", _("等待處理")
    RUNNING = "running", _("檢查與匯入中")
    DONE = "done", _("完成")
    REFUSED = "refused", _("退回")
    # The worker died, or the task message was lost (core.reaper): nothing written, the file deleted.
    INTERRUPTED = "halted", _("中斷")


class RosterUpload(models.Model):
    """批次上傳: a school's roster file, imported by a Celery task through the data-exchange engine.

    `messages` are the engine's row messages of a refused file (line and column, never an ID).
    """

    unit = models.ForeignKey(
        Unit, verbose_name=_("單位"), on_delete=models.PROTECT, related_name="roster_uploads"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("檔名"), max_length=200)
    stored_path = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(
        _("狀態"), max_length=10, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    created_at = models.DateTimeField(_("上傳時間"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成時間"), null=True, blank=True)
    summary = models.CharField(_("結果"), max_length=300, blank=True, default="")
    messages = models.JSONField(_("退回原因"), default=list, blank=True)

    class Meta:
        verbose_name = _("教師名單批次上傳")
        verbose_name_plural = _("教師名單批次上傳")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.unit} {self.file_name}"
