"""Audit trail registration (django-auditlog): every change of a planning cycle or window, with the
old and new values and who made it (listed on 進修規劃年度 → 異動紀錄)."""

from auditlog.registry import auditlog

from planning.models import PlanningCycle, PlanningWindow

auditlog.register(PlanningCycle)
auditlog.register(PlanningWindow, exclude_fields=["cycle"])
