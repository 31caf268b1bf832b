"""Planning in the admin: survey results, announcements, read-only snapshots.

Cycles and windows are managed in the portal (進修規劃年度, planning.cycle_views), which takes ROC
dates, explains errors in words and records every change; the admin no longer offers them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from planning import clock
from planning.models import Announcement, RosterSnapshot, SurveyResponse


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    """滿意度問卷 results for the operator (list, filter by year and kind)."""

    list_display = ("year", "kind", "ease", "usefulness", "comment", "answered_at")
    list_filter = ("year", "kind", "ease", "usefulness")
    readonly_fields = (
        "kind",
        "school_plan",
        "teacher_plan",
        "year",
        "ease",
        "usefulness",
        "comment",
        "answered_at",
    )

    def has_add_permission(self, request):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("published_on", "unit", "title")
    list_filter = ("unit__kind",)
    search_fields = ("title",)


@admin.register(RosterSnapshot)
class RosterSnapshotAdmin(admin.ModelAdmin):
    """Read-only: a snapshot is taken only by the service (snapshot_roster or the scheduled task).

    An empty one made by hand would look taken and empty every school's 教師名單; deleting one is
    refused once its cycle's first window has opened (plans and fill rates rest on it).
    """

    list_display = ("cycle", "taken_at", "entry_count")

    @admin.display(description=_("名單筆數"))
    def entry_count(self, obj):
        return obj.entries.count()

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would skip the per-snapshot rule
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.may_be_deleted(clock.now()):
            return False
        return super().has_delete_permission(request, obj)
