"""Operator screens for courses: the 屬性標籤 list, courses, and the record of hours corrections."""

from django.contrib import admin

from courses.models import Course, HoursCorrection, KindergartenFeedRun, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "organiser", "start_date", "status", "admission", "capacity"]
    list_filter = ["status", "domain", "mode", "admission", "authority"]
    search_fields = ["code", "title", "organiser__name", "organiser__code"]
    raw_id_fields = ["organiser", "authority", "registered_by"]
    filter_horizontal = ["tags"]
    exclude = ["audience_authorities"]
    date_hierarchy = "start_date"


@admin.register(HoursCorrection)
class HoursCorrectionAdmin(admin.ModelAdmin):
    """Read-only: a correction is decided on its screen, and its record never changes afterwards."""

    list_display = ["course", "person", "hours_before", "hours_after", "status", "requested_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["course__code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KindergartenFeedRun)
class KindergartenFeedRunAdmin(admin.ModelAdmin):
    """The report of each monthly 教保研習 feed to 全國教保資訊網 (read only)."""

    list_display = ["period", "adapter", "status", "sent", "unchanged", "started_at", "finished_at"]
    list_filter = ["status", "adapter"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
