"""Template filters for the ROC calendar; loaded as a builtin so every template has them."""

import datetime as dt

from django import template
from django.utils import timezone

from core.roc import format_roc_date, format_roc_datetime

register = template.Library()


@register.filter
def roc(value):
    """{{ some_date|roc }} → 113年8月5日; datetimes are shown in Asia/Taipei with the time."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return format_roc_datetime(value)
    if isinstance(value, dt.date):
        return format_roc_date(value)
    return value


@register.filter
def roc_date(value):
    """Only the date part, even of a datetime (in Asia/Taipei)."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return format_roc_date(value.date())
    return roc(value)
