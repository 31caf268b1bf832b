"""Operator screens for courses: the 屬性標籤 list, courses, and the record of hours corrections."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from courses import partners
from courses.models import Course, HoursCorrection, KindergartenFeedRun, PartnerCredential, Tag
from courses.services import CourseError


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


@admin.register(PartnerCredential)
class PartnerCredentialAdmin(admin.ModelAdmin):
    """合作平臺憑證: add one for a unit (the token is shown once, in the message), revoke by action."""

    list_display = ["unit", "prefix", "issued_at", "revoked_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["unit__name", "unit__code"]
    raw_id_fields = ["unit"]
    fields = ["unit"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            credential, token = partners.credential_issue(actor=request.user, unit=obj.unit)
        except CourseError as error:
            raise ValidationError(error.message) from error
        obj.pk = credential.pk
        obj.__dict__.update(credential.__dict__)
        messages.warning(
            request,
            f"{obj.unit} 的憑證（只顯示這一次，請立即交給合作單位）：{token}",
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        original_clean = form.clean

        def clean(form_self):
            data = original_clean(form_self)
            unit = data.get("unit")
            if unit and PartnerCredential.objects.filter(unit=unit, revoked_at__isnull=True).exists():
                raise ValidationError(partners.MSG_ALREADY_ISSUED)
            return data

        form.clean = clean
        return form

    @admin.action(description="撤銷所選憑證")
    def revoke(self, request, queryset):
        count = 0
        for credential in queryset.filter(revoked_at__isnull=True):
            partners.credential_revoke(actor=request.user, credential=credential)
            count += 1
        messages.success(request, f"已撤銷 {count} 組憑證。")
