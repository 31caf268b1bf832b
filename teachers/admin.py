from django.contrib import admin

from teachers.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "unit", "category", "title", "start_date", "end_date"]
    list_filter = ["category", "unit__stage", "unit__authority"]
    search_fields = ["unit__code", "unit__name"]
    raw_id_fields = ["person", "unit"]
