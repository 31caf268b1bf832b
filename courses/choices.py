"""Option lists shared by courses and the planning service (SPEC §6): one definition, stable codes.

`planning` imports these (it sits to the right of `courses`), so a course's 研習範疇 and a plan's
主要研習範疇 always mean the same six things.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Domain(models.TextChoices):
    """研習範疇 / 主要研習範疇: the six domains of SPEC §6."""

    CURRICULUM = "curriculum", _("課程、教學及評量")
    GUIDANCE = "guidance", _("班級經營與輔導")
    PROFESSIONAL = "professional", _("專業發展與責任")
    POLICY = "policy", _("新興教育政策")
    LEADERSHIP = "leadership", _("學校行政與領導")
    LITERACY = "literacy", _("實用知能與生活素養")


class Mode(models.TextChoices):
    """在職進修方式 (SPEC §6)."""

    HOURS = "hours", _("非學分班-研習時數")
    CREDIT_BACHELOR = "credit_bachelor", _("學分班-學士層級進修")
    CREDIT_MASTER = "credit_master", _("學分班-碩士層級進修")


class Admission(models.TextChoices):
    """錄取方式: chosen by the organiser per course."""

    FIRST_COME = "first_come", _("先到先錄取")
    REVIEW = "review", _("審核錄取")


# 屬性標籤 seeded by the migration; the operator manages the list in the admin.
SEED_TAGS = (
    "安全教育",
    "性別平等教育",
    "幼兒園教保專業知能",
    "基本救命術訓練",
    "特殊教育",
    "環境教育",
    "資訊教育",
    "家庭教育",
)
