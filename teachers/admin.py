from django.contrib import admin
from django.db import models

from core.forms import RocDateField, RocDateInput
from teachers.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "unit", "category", "title", "start_date", "end_date"]
    list_filter = ["category", "unit__stage", "unit__authority"]
    search_fields = ["unit__code", "unit__name"]
    raw_id_fields = ["person", "unit"]
    # Dates typed as ROC (113/8/5, 113年8月5日) or ISO, shown as ROC, like every date field.
    formfield_overrides = {models.DateField: {"form_class": RocDateField, "widget": RocDateInput}}
