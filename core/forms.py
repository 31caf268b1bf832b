"""Form fields shared by every app's forms (core imports no app)."""

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roc

MSG_INVALID_DATE = _("請輸入正確的日期，例如 113/8/5、113年8月5日或 2024-08-05。")


class RocDateInput(forms.TextInput):
    """A text box that shows a date in the ROC calendar (113年8月5日) and leaves typed text alone."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "text", "autocomplete": "off", "size": 14, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return roc.format_roc_date(value)
        return super().format_value(value)


class RocDateField(forms.DateField):
    """A date field that accepts ROC (113/8/5, 113年8月5日) and ISO (2024-08-05) input and shows ROC.

    Use it for every date a person types: `start = RocDateField(label=_("開始日期"))`.
    """

    widget = RocDateInput
    default_error_messages = {"invalid": MSG_INVALID_DATE}

    def __init__(self, *, help_text=None, **kwargs):
        if help_text is None:
            help_text = _("民國年月日，例如 113/8/5 或 113年8月5日；也可填西元 2024-08-05。")
        super().__init__(help_text=help_text, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return roc.parse_date(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


MSG_INVALID_DATETIME = _("請輸入正確的日期與時間，例如 115/7/31 17:00 或 115年7月31日 17:00。")


class RocDateTimeInput(forms.TextInput):
    """A text box that shows an instant as its Asia/Taipei ROC date and time (115年7月31日 17:00)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "text", "autocomplete": "off", "size": 20, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return roc.format_roc_datetime(value)
        return super().format_value(value)


class RocDateTimeField(forms.DateTimeField):
    """A date and a 24-hour time in one box: 115/7/31 17:00, 115年7月31日 17:00 or 2026-07-31 17:00.

    The time is the portal's (Asia/Taipei); without a time the field answers that one is needed.
    """

    widget = RocDateTimeInput
    default_error_messages = {"invalid": MSG_INVALID_DATETIME}

    def __init__(self, *, help_text=None, **kwargs):
        if help_text is None:
            help_text = _("民國年月日及 24 小時制時間（臺北時間），例如 115/7/31 17:00。")
        super().__init__(help_text=help_text, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value if timezone.is_aware(value) else timezone.make_aware(value)
        text = str(value)
        if re.match(r"^\s*\d{4}-\d{1,2}-\d{1,2}T", text):
            text = text.replace("T", " ", 1)  # ISO 8601 as a browser's datetime-local sends it
        try:
            moment = roc.parse_datetime(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return timezone.make_aware(moment)
