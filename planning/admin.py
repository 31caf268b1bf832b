"""The operator manages planning cycles and their windows here, without code (SPEC §6)."""

from django.contrib import admin

from planning.models import Announcement, PlanningCycle, PlanningWindow, RosterSnapshot, SurveyResponse


class PlanningWindowInline(admin.TabularInline):
    model = PlanningWindow
    extra = 0
    fields = ("kind", "phase", "authority", "first_day", "last_day")
    ordering = ("kind", "first_day", "authority__code")


@admin.register(PlanningCycle)
class PlanningCycleAdmin(admin.ModelAdmin):
    list_display = ("year", "roster_cutoff")
    inlines = [PlanningWindowInline]


@admin.register(PlanningWindow)
class PlanningWindowAdmin(admin.ModelAdmin):
    list_display = ("cycle", "kind", "phase", "authority", "first_day", "last_day")
    list_filter = ("cycle", "kind", "phase")
    search_fields = ("authority__name",)


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
    list_display = ("cycle", "taken_at")

    def has_change_permission(self, request, obj=None):
        return False
