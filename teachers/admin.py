from django.contrib import admin
from django.db import models

from core.forms import RocDateField, RocDateInput
from teachers.models import FeedRun, Membership, RosterDownload, RosterUpload, Subject, TeacherAccount


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "unit", "category", "title", "start_date", "end_date", "end_reason"]
    list_filter = ["category", "end_reason", "unit__stage", "unit__authority"]
    search_fields = ["unit__code", "unit__name"]
    raw_id_fields = ["person", "unit"]
    # Dates typed as ROC (113/8/5, 113年8月5日) or ISO, shown as ROC, like every date field.
    formfield_overrides = {models.DateField: {"form_class": RocDateField, "widget": RocDateInput}}


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "stages"]
    search_fields = ["name"]


@admin.register(TeacherAccount)
class TeacherAccountAdmin(admin.ModelAdmin):
    list_display = ["person", "user", "status", "enabled_at"]
    list_filter = ["status"]
    raw_id_fields = ["person", "user", "enabled_by"]
    search_fields = ["user__username"]


@admin.register(RosterDownload)
class RosterDownloadAdmin(admin.ModelAdmin):
    """Who downloaded which unit's roster (with national IDs), and when: read only."""

    list_display = ["at", "unit", "actor", "rows"]
    list_filter = ["unit__authority"]
    search_fields = ["unit__code", "unit__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FeedRun)
class FeedRunAdmin(admin.ModelAdmin):
    """夜間同步紀錄, read only (the operator's page is teachers:feed-runs)."""

    list_display = ["source", "status", "started_at", "finished_at", "added", "moved", "ended", "refused"]
    list_filter = ["source", "status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RosterUpload)
class RosterUploadAdmin(admin.ModelAdmin):
    """批次上傳, read only."""

    list_display = ["unit", "file_name", "status", "created_at", "summary"]
    list_filter = ["status"]
    search_fields = ["unit__code", "unit__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
