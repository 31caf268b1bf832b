from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import BusinessAccount, Person, Unit, User


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "stage", "authority"]
    list_filter = ["kind", "stage", "authority"]
    search_fields = ["code", "name"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    # The masked name only: the ID stays out of every list.
    list_display = ["masked_name", "email", "created_at"]
    search_fields = ["email"]
    fields = ["name", "email"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "last_login"]
    raw_id_fields = ["person"]
    fieldsets = BaseUserAdmin.fieldsets + (("人員", {"fields": ["person"]}),)


@admin.register(BusinessAccount)
class BusinessAccountAdmin(admin.ModelAdmin):
    """Read-only: enabling, changing and deleting go through the screens that enforce SPEC §3.2."""

    list_display = ["user", "unit", "type", "status", "applied_at", "enabled_at"]
    list_filter = ["type", "status", "unit__kind"]
    search_fields = ["user__username", "unit__code", "unit__name"]
    raw_id_fields = ["user", "person", "unit"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
