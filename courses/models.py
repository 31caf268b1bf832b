"""Courses (研習課程) and issued hours (研習時數), SPEC §5."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Unit


class CourseStatus(models.TextChoices):
    DRAFT = "draft", _("登錄中")
    OPEN = "open", _("開放報名")
    CLOSED = "closed", _("報名截止")
    CONFIRMED = "confirmed", _("名單確認通過")


class Course(models.Model):
    """研習課程: a course with a public code, opened by a business account of its organiser unit."""

    code = models.CharField(_("課程代碼"), max_length=30, unique=True)
    title = models.CharField(_("課程名稱"), max_length=200)
    organiser = models.ForeignKey(
        Unit, verbose_name=_("開課單位"), on_delete=models.PROTECT, related_name="courses"
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
    status = models.CharField(
        _("狀態"), max_length=10, choices=CourseStatus.choices, default=CourseStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("研習課程")
        verbose_name_plural = _("研習課程")
        ordering = ["-start_date", "code"]
        constraints = [
            models.CheckConstraint(name="course_hours_not_negative", condition=Q(hours__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class HoursSource(models.TextChoices):
    COURSE = "course", _("課程核發")
    IMPORT = "import", _("資料匯入")
    PARTNER = "partner", _("合作平臺")


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

    class Meta:
        verbose_name = _("研習時數")
        verbose_name_plural = _("研習時數")
        constraints = [
            models.UniqueConstraint(fields=["person", "course", "date"], name="issued_hours_natural_key"),
            models.CheckConstraint(name="issued_hours_not_negative", condition=Q(hours__gte=0)),
        ]
        indexes = [models.Index(fields=["person", "date"])]

    def __str__(self) -> str:
        return f"{self.course.code} {self.date} {self.hours}"
