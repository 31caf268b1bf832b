"""Courses (研習課程), enrolment (報名), attendance uploads and issued hours (研習時數), SPEC §5."""

import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Stage, Unit
from core.roc import academic_year_bounds
from courses.choices import Admission, Domain, Mode

MAX_HOURS_PER_DAY = Decimal("10")
MSG_END_BEFORE_START = _("結束日期不能早於開始日期。")
MSG_HOURS_POSITIVE = _("研習時數須大於 0。")
MSG_HOURS_IMPLAUSIBLE = _("研習時數超過上課日期可容納的時數（{days} 天最多 {limit} 小時）。")
MSG_CAPACITY = _("名額至少 1 名。")
MSG_WINDOW_ORDER = _("報名截止時間須晚於報名開始時間。")
MSG_WINDOW_AFTER_COURSE = _("報名須在課程結束前截止。")


class CourseStatus(models.TextChoices):
    REGISTERING = "registering", _("登錄中")
    OPEN = "open", _("開放報名")
    CLOSED = "closed", _("報名截止")
    PENDING = "pending", _("待確認")
    CONFIRMED = "confirmed", _("名單確認通過")
    CANCELLED = "cancelled", _("已取消")


class Tag(models.Model):
    """屬性標籤: a managed list (安全教育, 性別平等教育, …) a course carries any number of."""

    name = models.CharField(_("標籤"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("屬性標籤")
        verbose_name_plural = _("屬性標籤")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CodeCounter(models.Model):
    """The last 課程代碼 number handed out in one ROC year; locked while a course is opened."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Course(models.Model):
    """研習課程: a course opened by a business account of its organiser unit; public once it has a code."""

    # Empty until the course is opened (開放報名); imported courses bring theirs.
    code = models.CharField(_("課程代碼"), max_length=30, unique=True, null=True, blank=True)
    title = models.CharField(_("課程名稱"), max_length=200)
    organiser = models.ForeignKey(
        Unit, verbose_name=_("開課單位"), on_delete=models.PROTECT, related_name="courses"
    )
    # The competent authority (區管中心) of the organiser, kept on the course: searched by, and the
    # approver of hours corrections. Null for bodies under no authority (大專校院, 法人, …).
    authority = models.ForeignKey(
        Unit,
        verbose_name=_("主管機關"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登錄者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_courses",
    )
    start_date = models.DateField(_("上課開始日期"), null=True, blank=True)
    end_date = models.DateField(_("上課結束日期"), null=True, blank=True)
    hours = models.DecimalField(_("研習時數"), max_digits=6, decimal_places=1, default=0)
    place = models.CharField(_("開課地點"), max_length=200, blank=True)
    mode = models.CharField(
        _("在職進修方式"), max_length=20, choices=Mode.choices, default=Mode.HOURS, db_default=Mode.HOURS
    )
    domain = models.CharField(
        _("研習範疇"), max_length=20, choices=Domain.choices, blank=True, default="", db_default=""
    )
    sub_topic = models.CharField(_("子題"), max_length=100, blank=True, default="", db_default="")
    description = models.TextField(_("課程說明"), blank=True, default="", db_default="")
    tags = models.ManyToManyField(Tag, verbose_name=_("屬性標籤"), blank=True, related_name="courses")
    audience_authorities = models.ManyToManyField(
        Unit,
        verbose_name=_("研習對象所屬主管機關"),
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "authority"},
    )
    capacity = models.PositiveIntegerField(_("名額"), null=True, blank=True)
    enrol_opens_at = models.DateTimeField(_("報名開始時間"), null=True, blank=True)
    enrol_closes_at = models.DateTimeField(_("報名截止時間"), null=True, blank=True)
    admission = models.CharField(
        _("錄取方式"),
        max_length=12,
        choices=Admission.choices,
        default=Admission.FIRST_COME,
        db_default=Admission.FIRST_COME,
    )
    admission_announced_at = models.DateTimeField(_("錄取公告時間"), null=True, blank=True)
    contact_name = models.CharField(_("聯絡人"), max_length=60, blank=True, default="", db_default="")
    contact_phone = models.CharField(_("聯絡電話"), max_length=30, blank=True, default="", db_default="")
    contact_email = models.EmailField(_("聯絡信箱"), blank=True, default="", db_default="")
    status = models.CharField(
        _("狀態"), max_length=12, choices=CourseStatus.choices, default=CourseStatus.REGISTERING
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(_("名單確認時間"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("研習課程")
        verbose_name_plural = _("研習課程")
        ordering = ["-start_date", "code"]
        constraints = [
            models.CheckConstraint(name="course_hours_not_negative", condition=Q(hours__gte=0)),
            models.CheckConstraint(name="course_status_valid", condition=Q(status__in=CourseStatus.values)),
            models.CheckConstraint(
                name="course_end_not_before_start",
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
            ),
            models.CheckConstraint(
                name="course_capacity_positive", condition=Q(capacity__isnull=True) | Q(capacity__gte=1)
            ),
            models.CheckConstraint(
                name="course_enrol_window_ordered",
                condition=Q(enrol_opens_at__isnull=True)
                | Q(enrol_closes_at__isnull=True)
                | Q(enrol_closes_at__gt=F("enrol_opens_at")),
            ),
        ]
        indexes = [
            # Public search: every filter narrows on its column, newest course first.
            models.Index(fields=["status", "-start_date"], name="course_status_start_idx"),
            models.Index(fields=["authority", "-start_date"], name="course_authority_start_idx"),
            models.Index(fields=["domain", "-start_date"], name="course_domain_start_idx"),
            models.Index(fields=["-start_date", "code"], name="course_start_code_idx"),
            models.Index(fields=["organiser", "status"], name="course_organiser_status_idx"),
            # "Open for enrolment now": open courses whose window has begun.
            models.Index(fields=["status", "enrol_opens_at"], name="course_status_opens_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code or '（未編碼）'} {self.title}"

    def clean(self) -> None:
        """研習課程登錄 rules: dates in order, plausible hours, at least one seat, enrolment closes in time."""
        errors: dict[str, str] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = MSG_END_BEFORE_START
        if self.hours is not None and self.hours <= 0:
            errors["hours"] = MSG_HOURS_POSITIVE
        elif self.hours and self.start_date and self.end_date and "end_date" not in errors:
            days = (self.end_date - self.start_date).days + 1
            if self.hours > MAX_HOURS_PER_DAY * days:
                errors["hours"] = MSG_HOURS_IMPLAUSIBLE.format(limit=MAX_HOURS_PER_DAY * days, days=days)
        if self.capacity is not None and self.capacity < 1:
            errors["capacity"] = MSG_CAPACITY
        if self.enrol_opens_at and self.enrol_closes_at and self.enrol_closes_at <= self.enrol_opens_at:
            errors["enrol_closes_at"] = MSG_WINDOW_ORDER
        elif self.enrol_closes_at and self.end_date:
            course_ends = timezone.make_aware(
                dt.datetime.combine(self.end_date + dt.timedelta(days=1), dt.time())
            )
            if self.enrol_closes_at >= course_ends:
                errors["enrol_closes_at"] = MSG_WINDOW_AFTER_COURSE
        if errors:
            raise ValidationError(errors)

    @property
    def is_public(self) -> bool:
        return bool(self.code) and self.status != CourseStatus.REGISTERING

    def enrolment_open_at(self, moment) -> bool:
        return (
            self.status == CourseStatus.OPEN
            and self.enrol_opens_at is not None
            and self.enrol_closes_at is not None
            and self.enrol_opens_at <= moment < self.enrol_closes_at
        )


class AudienceStage(models.Model):
    """研習對象 教育階段: one row per stage a course is meant for (none: every stage)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="audience_stages")
    stage = models.CharField(_("教育階段"), max_length=10, choices=Stage.choices)

    class Meta:
        verbose_name = _("研習對象教育階段")
        verbose_name_plural = _("研習對象教育階段")
        constraints = [models.UniqueConstraint(fields=["course", "stage"], name="audience_stage_once")]
        # The search asks "which courses are for this stage": stage first.
        indexes = [models.Index(fields=["stage", "course"], name="audience_stage_course_idx")]

    def __str__(self) -> str:
        return self.stage


class EnrolmentStatus(models.TextChoices):
    APPLIED = "applied", _("已報名（待審核）")
    ADMITTED = "admitted", _("錄取")
    WAITING = "waiting", _("候補")
    CANCELLED = "cancelled", _("已取消報名")
    DECLINED = "declined", _("放棄錄取")
    REJECTED = "rejected", _("未錄取")


ACTIVE_ENROLMENT = (EnrolmentStatus.APPLIED, EnrolmentStatus.ADMITTED, EnrolmentStatus.WAITING)

# 報名序號: 10 characters of Crockford's base32 (no I, L, O, U), 50 random bits, shown in groups
# of five. It names the enrolment in the participant list and the attendance file instead of the
# national ID; random, so that a number of one course tells nothing about another's.
ENROLMENT_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ENROLMENT_NUMBER_LENGTH = 11  # XXXXX-XXXXX


def new_enrolment_number() -> str:
    chars = "".join(secrets.choice(ENROLMENT_NUMBER_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


class Enrolment(models.Model):
    """報名: one teacher's place (or wait) in one course; at most one row per person and course."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrolments")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="enrolments")
    number = models.CharField(
        _("報名序號"),
        max_length=ENROLMENT_NUMBER_LENGTH,
        unique=True,
        default=new_enrolment_number,
        editable=False,
    )
    status = models.CharField(_("報名狀態"), max_length=10, choices=EnrolmentStatus.choices)
    # Queue position: the time of the latest (re-)enrolment; the waiting list moves up in this order.
    applied_at = models.DateTimeField(_("報名時間"))
    admitted_at = models.DateTimeField(_("錄取時間"), null=True, blank=True)
    attended_hours = models.DecimalField(_("出席時數"), max_digits=6, decimal_places=1, null=True, blank=True)

    class Meta:
        verbose_name = _("報名")
        verbose_name_plural = _("報名")
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "person"], name="enrolment_once_per_course"),
            models.CheckConstraint(
                name="enrolment_status_valid", condition=Q(status__in=EnrolmentStatus.values)
            ),
            models.CheckConstraint(
                name="enrolment_attended_not_negative",
                condition=Q(attended_hours__isnull=True) | Q(attended_hours__gte=0),
            ),
        ]
        indexes = [
            models.Index(fields=["course", "status", "applied_at"], name="enrolment_course_queue_idx"),
            models.Index(fields=["person", "status"], name="enrolment_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.course} {self.person} {self.get_status_display()}"


class AdmissionSkip(models.Model):
    """審核錄取 out of order: one waiting person passed over when someone enrolled later was admitted,
    with the reason the unit recorded (SPEC §5: skipping someone needs a recorded reason)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="admission_skips")
    skipped = models.ForeignKey(
        Enrolment, verbose_name=_("略過的報名"), on_delete=models.CASCADE, related_name="skips"
    )
    reason = models.TextField(_("略過理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("決定時間"), auto_now_add=True)

    class Meta:
        verbose_name = _("錄取順序略過紀錄")
        verbose_name_plural = _("錄取順序略過紀錄")
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(name="admission_skip_has_reason", condition=~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"{self.course} {self.skipped_id} {self.reason[:20]}"


class UploadStatus(models.TextChoices):
    QUEUED = "queued", _("排隊中")
    RUNNING = "running", _("處理中")
    DONE = "done", _("完成")
    REFUSED = "refused", _("檔案有錯誤，未寫入")
    FAILED = "failed", _("處理失敗")
    INTERRUPTED = "halted", _("中斷")


class AttendanceUpload(models.Model):
    """資料上傳: one attendance file of one course, processed by a Celery task with visible progress."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("檔名"), max_length=200)
    # Kept in the database so that a worker on another machine reads it; emptied once processed.
    content = models.BinaryField(editable=False)
    status = models.CharField(
        _("處理狀態"), max_length=10, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("進度（%）"), default=0)
    rows = models.PositiveIntegerField(_("資料列數"), default=0)
    messages = models.JSONField(_("訊息"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Refreshed by the worker as it goes; the reaper's liveness test where no advisory lock exists.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("出席資料上傳")
        verbose_name_plural = _("出席資料上傳")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="upload_status_valid", condition=Q(status__in=UploadStatus.values)),
            models.CheckConstraint(name="upload_progress_percent", condition=Q(progress__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.course} {self.filename} {self.get_status_display()}"


class HoursSource(models.TextChoices):
    COURSE = "course", _("課程核發")
    IMPORT = "import", _("資料匯入")
    PARTNER = "partner", _("合作平臺")


class IssuedHoursQuerySet(models.QuerySet):
    def in_year(self, year: int) -> "IssuedHoursQuerySet":
        """The hours of academic year Y: dated from 1 August to 31 July, both included (SPEC §7).

        The one definition of "hours of a person in year Y": the roster's 統合視導 filter, the
        learning record, certificates, the 教保 feed, the charts, planning and the reward job read it.
        """
        start, end = academic_year_bounds(year)
        return self.filter(date__gte=start, date__lte=end)


class IssuedHours(models.Model):
    """核發研習時數: hours issued to one person for one course on one date; what every hours figure sums."""

    # No index of its own: (person, date) and the natural key both begin with person.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="issued_hours", db_index=False)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="issued_hours")
    date = models.DateField(_("研習日期"))
    hours = models.DecimalField(_("時數"), max_digits=6, decimal_places=1)
    source = models.CharField(
        _("來源"), max_length=10, choices=HoursSource.choices, default=HoursSource.COURSE
    )
    issued_at = models.DateTimeField(auto_now_add=True)

    objects = IssuedHoursQuerySet.as_manager()

    class Meta:
        verbose_name = _("研習時數")
        verbose_name_plural = _("研習時數")
        constraints = [
            models.UniqueConstraint(fields=["person", "course", "date"], name="issued_hours_natural_key"),
            models.CheckConstraint(name="issued_hours_not_negative", condition=Q(hours__gte=0)),
            models.CheckConstraint(
                name="issued_hours_source_valid", condition=Q(source__in=HoursSource.values)
            ),
        ]
        indexes = [models.Index(fields=["person", "date"])]

    def __str__(self) -> str:
        return f"{self.course.code} {self.date} {self.hours}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("待核定")
    APPROVED = "approved", _("已核定")
    REJECTED = "rejected", _("不予核定")


class HoursCorrection(models.Model):
    """更正: a recorded change of one person's hours in a confirmed course, approved by its authority."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="corrections")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    hours_before = models.DecimalField(_("更正前時數"), max_digits=6, decimal_places=1)
    hours_after = models.DecimalField(_("更正後時數"), max_digits=6, decimal_places=1)
    reason = models.TextField(_("更正理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申請時間"), auto_now_add=True)
    status = models.CharField(
        _("狀態"), max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("核定時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("研習時數更正")
        verbose_name_plural = _("研習時數更正")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                name="correction_status_valid", condition=Q(status__in=CorrectionStatus.values)
            ),
            models.CheckConstraint(
                name="correction_hours_not_negative", condition=Q(hours_after__gte=0) & Q(hours_before__gte=0)
            ),
            # One open request per person and course: a second one would race the first.
            models.UniqueConstraint(
                fields=["course", "person"], condition=Q(status="pending"), name="one_pending_correction"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} {self.person} {self.hours_before}→{self.hours_after}"


class Certificate(models.Model):
    """研習證明: what one PDF certifies, found again by its random verification code (驗證碼)."""

    code = models.CharField(_("驗證碼"), max_length=16, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="certificates")
    # One course, or (course empty) one academic year's total.
    course = models.ForeignKey(Course, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    academic_year = models.PositiveSmallIntegerField(_("學年度"), null=True, blank=True)
    hours = models.DecimalField(_("時數"), max_digits=7, decimal_places=1)
    # What it certifies, as it stood when issued: [course code, title, date (ISO), hours] per record.
    lines = models.JSONField(_("證明內容"), default=list, blank=True)
    # 截至: the day the figures were taken (a year certificate may be issued while the year runs).
    as_of = models.DateField(_("資料截至"), null=True, blank=True)
    # Set when the hours it certifies changed (更正, or new hours of its year): the code then says so.
    superseded_at = models.DateTimeField(_("失效時間"), null=True, blank=True)
    issued_at = models.DateTimeField(_("開立時間"), auto_now_add=True)

    class Meta:
        verbose_name = _("研習證明")
        verbose_name_plural = _("研習證明")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                name="certificate_course_or_year",
                condition=Q(course__isnull=False, academic_year__isnull=True)
                | Q(course__isnull=True, academic_year__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class FeedStatus(models.TextChoices):
    RUNNING = "running", _("傳送中")
    DONE = "done", _("完成")
    FAILED = "failed", _("失敗")


class KindergartenFeedRun(models.Model):
    """One monthly run of the 教保研習 feed to 全國教保資訊網: its report."""

    period = models.CharField(_("期別"), max_length=7)  # 2026-11
    adapter = models.CharField(_("傳送方式"), max_length=20)
    status = models.CharField(
        _("狀態"), max_length=10, choices=FeedStatus.choices, default=FeedStatus.RUNNING
    )
    sent = models.PositiveIntegerField(_("傳送筆數"), default=0)
    unchanged = models.PositiveIntegerField(_("未變動筆數"), default=0)
    error = models.TextField(_("錯誤訊息"), blank=True, default="")
    started_at = models.DateTimeField(_("開始時間"), auto_now_add=True)
    finished_at = models.DateTimeField(_("結束時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("教保研習時數傳送")
        verbose_name_plural = _("教保研習時數傳送")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.period} {self.adapter} {self.get_status_display()}"


class KindergartenFeedRecord(models.Model):
    """What was last sent for one person and academic year: a resend of the same figure is skipped."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    academic_year = models.PositiveSmallIntegerField(_("學年度"))
    hours = models.DecimalField(_("時數"), max_digits=7, decimal_places=1)
    run = models.ForeignKey(KindergartenFeedRun, on_delete=models.PROTECT, related_name="records")
    sent_at = models.DateTimeField(_("傳送時間"), auto_now=True)

    class Meta:
        verbose_name = _("教保研習時數傳送紀錄")
        verbose_name_plural = _("教保研習時數傳送紀錄")
        constraints = [
            models.UniqueConstraint(fields=["person", "academic_year"], name="kg_feed_once_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.hours}"


class PartnerCredential(models.Model):
    """合作平臺 API credential: one live credential per partner unit, issued and revoked by the
    operator. Only the SHA-256 of the token is kept; the token is shown once, when issued."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("合作單位"), on_delete=models.PROTECT, related_name="partner_credentials"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("憑證開頭"), max_length=12, editable=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("核發時間"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤銷時間"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最後使用時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("合作平臺憑證")
        verbose_name_plural = _("合作平臺憑證")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(revoked_at__isnull=True), name="one_live_partner_credential"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.prefix}…"


# 場次 and 報到/簽退 (issue 23 points 1-3) and 研習回饋問卷 (point 4) live in their own modules;
# imported here so the app registers their tables.
from courses.checkin_models import CheckIn, CheckKind, CheckMethod, CourseSession  # noqa: E402, F401
from courses.feedback_models import (  # noqa: E402, F401
    FeedbackAnswer,
    FeedbackRespondent,
    FeedbackResponse,
    Question,
    QuestionKind,
    Questionnaire,
)
