"""The operator manages planning cycles and their windows here, without code (SPEC §6)."""

from django.contrib import admin

from planning.models import PlanningCycle, PlanningWindow


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
