from django import template

from accounts import audit_display

register = template.Library()


@register.filter
def audit_row(entry) -> audit_display.AuditRow:
    """{% with row=entry|audit_row %}: one 業務帳號異動紀錄 entry as the operator reads it."""
    return audit_display.describe(entry)
