"""The runs in the operator's admin, read-only: 獎勵作業 (the page) starts them."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from rewards.models import RewardRun


@admin.register(RewardRun)
class RewardRunAdmin(admin.ModelAdmin):
    list_display = ("id", "year", "status", "stage", "percent", "started_by", "created_at", "finished_at")
    list_filter = ("year", "status")
    readonly_fields = [f.name for f in RewardRun._meta.fields] + ["job_page"]
    list_select_related = ("started_by",)

    @admin.display(description="獎勵作業頁面")
    def job_page(self, obj):
        return format_html('<a href="{}">啟動或重新執行</a>', reverse("rewards:job"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
