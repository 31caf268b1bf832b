"""場次 (course sessions) and 報到/簽退 records (issue 23 points 1–3).

Kept out of courses/models.py so that the check-in tables read as one piece; courses.models imports
them, so Django and the migrations see them as models of the courses app.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class CourseSession(models.Model):
    """場次: one sitting of a course, with its date, start and end time and the hours it counts."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField(_("日期"))
    starts_at = models.TimeField(_("開始時間"))
    ends_at = models.TimeField(_("結束時間"))
    hours = models.DecimalField(_("時數"), max_digits=4, decimal_places=1)

    class Meta:
        verbose_name = _("場次")
        verbose_name_plural = _("場次")
        ordering = ["date", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(name="session_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))),
            models.CheckConstraint(name="session_hours_positive", condition=Q(hours__gt=0)),
            models.UniqueConstraint(fields=["course", "date", "starts_at"], name="session_once_per_start"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class CheckKind(models.TextChoices):
    IN = "in", _("報到")
    OUT = "out", _("簽退")


class CheckMethod(models.TextChoices):
    SCAN = "scan", _("掃描 QR Code")
    MANUAL = "manual", _("人工查詢")


class CheckIn(models.Model):
    """報到／簽退紀錄: the first scan of one participant for one session and kind.

    `scan_id` is the UUID the phone gave the scan when it was made, so a scan sent twice (a retry
    after a lost answer, a queue sent again) is one row; the (session, enrolment, kind) constraint
    makes two phones scanning the same person one record: the first to arrive wins.
    """

    scan_id = models.UUIDField(_("掃描識別碼"), unique=True, editable=False)
    session = models.ForeignKey(
        CourseSession, verbose_name=_("場次"), on_delete=models.PROTECT, related_name="checkins"
    )
    enrolment = models.ForeignKey(
        "courses.Enrolment", verbose_name=_("報名"), on_delete=models.PROTECT, related_name="checkins"
    )
    kind = models.CharField(_("類別"), max_length=3, choices=CheckKind.choices)
    method = models.CharField(_("方式"), max_length=6, choices=CheckMethod.choices, default=CheckMethod.SCAN)
    # When the phone read the code (it may have been offline); received_at is when it reached us.
    scanned_at = models.DateTimeField(_("掃描時間"))
    received_at = models.DateTimeField(_("接收時間"), auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("報到紀錄")
        verbose_name_plural = _("報到紀錄")
        ordering = ["scanned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "enrolment", "kind"], name="checkin_once_per_kind"),
            models.CheckConstraint(name="checkin_kind_valid", condition=Q(kind__in=CheckKind.values)),
            models.CheckConstraint(name="checkin_method_valid", condition=Q(method__in=CheckMethod.values)),
        ]
        indexes = [models.Index(fields=["enrolment", "session"], name="checkin_enrolment_idx")]

    def __str__(self) -> str:
        return f"{self.session} {self.enrolment_id} {self.get_kind_display()}"
