"""The roster: dated memberships of people in units (service history, SPEC §3.1)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Unit


class Category(models.TextChoices):
    TEACHER = "教師", _("教師")
    STAFF = "行政職員", _("行政職員")


class Subject(models.Model):
    """任教科目: the reference list of subjects a teacher may teach (several per membership)."""

    name = models.CharField(_("科目"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("任教科目")
        verbose_name_plural = _("任教科目")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def current(self):
        return self.filter(end_date__isnull=True)

    def on(self, day):
        """Memberships in force on a given day."""
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))


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
    end_reason = models.CharField(_("異動原因"), max_length=20, blank=True)

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
            # A person serves at one unit at a time: moving ends the old membership first.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(end_date__isnull=True),
                name="one_current_membership_per_person",
            ),
            models.UniqueConstraint(fields=["person", "unit", "start_date"], name="membership_natural_key"),
        ]
        indexes = [models.Index(fields=["unit", "end_date"])]

    def __str__(self) -> str:
        return f"{self.person} @ {self.unit}"
