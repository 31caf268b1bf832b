"""The Django admin of the operator (issue 9 points 3 and 21).

The admin is for reading and for the few things without a screen of their own; it never shows a
secret and never goes around the rules: no password can be set (only a reset e-mail sent), no
TOTP secret is shown or edited, a business account changes only on the management screens that
call accounts.services, and what an account may do follows its business account (is_active,
is_staff and is_superuser are read-only here). Every change made here is in Django's admin log,
shown to the operator on 管理後台異動紀錄, and in django-auditlog's change history. Dates are ROC.
"""

from allauth.account.forms import ResetPasswordForm
from allauth.mfa.models import Authenticator
from auditlog.admin import LogEntryAdmin as AuditLogEntryAdmin
from auditlog.models import LogEntry as AuditLogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessAccount, Person, SecurityEvent, Unit, User
from core.templatetags.roc import roc


def roc_column(field: str, label):
    """A list column showing a date or time field in the ROC calendar (Asia/Taipei)."""

    def column(obj):
        value = getattr(obj, field)
        return roc(value) if value else "—"

    column.short_description = label
    column.admin_order_field = field
    column.__name__ = f"{field}_roc"
    return column


def roc_field(field: str, label):
    """The same, as a method of a ModelAdmin (for readonly_fields named in fieldsets)."""
    column = roc_column(field, label)

    def method(self, obj):
        return column(obj)

    method.short_description = label
    return method


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted from the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "stage", "authority"]
    list_filter = ["kind", "stage", "authority"]
    search_fields = ["code", "name"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    # The masked name only: the ID stays out of every list.
    list_display = ["masked_name", "email", roc_column("created_at", _("建立時間"))]
    search_fields = ["email"]
    fields = ["name", "email", "email_unit", "email_confirmed"]
    autocomplete_fields = ["email_unit"]

    def has_add_permission(self, request) -> bool:
        # People come from the roster (imports, the unit's registration) and enabled applications.
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Read-only, with one action: send the holder a password reset e-mail."""

    list_display = [
        "username",
        "email",
        "is_active",
        "is_staff",
        roc_column("last_login", _("上次登入")),
        roc_column("date_joined", _("建立時間")),
    ]
    fieldsets = (
        (None, {"fields": ["username", "email", "first_name", "last_name", "person"]}),
        (_("權限（依業務帳號決定）"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("時間"), {"fields": ["last_login_roc", "date_joined_roc"]}),
    )
    readonly_fields = [
        "username",
        "email",
        "first_name",
        "last_name",
        "person",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login_roc",
        "date_joined_roc",
    ]
    actions = ["send_password_reset"]
    form = forms.ModelForm  # not UserChangeForm: no password field, not even its hash

    last_login_roc = roc_field("last_login", _("上次登入"))
    date_joined_roc = roc_field("date_joined", _("建立時間"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        # No "change password" page: the admin never sets a password.
        return [url for url in super().get_urls() if "password" not in str(url.pattern)]

    @admin.action(description=_("寄送密碼重設信給所選帳號"), permissions=["view"])
    def send_password_reset(self, request, queryset):
        sent = 0
        for user in queryset.filter(is_active=True).exclude(email=""):
            form = ResetPasswordForm(data={"email": user.email})
            if form.is_valid():
                form.save(request)
                self.log_change(request, user, str(_("寄送密碼重設信")))
                sent += 1
        messages.success(request, _("已寄出 %(n)d 封密碼重設信。") % {"n": sent})


@admin.register(BusinessAccount)
class BusinessAccountAdmin(ReadOnlyAdmin):
    """Read-only: enabling, changing and deleting go through the screens that enforce SPEC §3.2."""

    list_display = [
        "username",
        "unit",
        "type",
        "status",
        roc_column("applied_at", _("申請時間")),
        roc_column("enabled_at", _("啟用時間")),
    ]
    list_filter = ["type", "status", "unit__kind"]
    search_fields = ["username", "unit__code", "unit__name"]
    exclude = ["applicant_national_id_digest", "applicant_national_id_encrypted"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = [roc_column("at", _("時間")), "kind", "reason", "username", "ip", "method", "path"]
    list_filter = ["kind"]
    search_fields = ["username", "ip"]
    fields = ["at_roc", "kind", "reason", "username", "ip", "method", "path"]
    readonly_fields = fields
    at_roc = roc_field("at", _("時間"))


# allauth's own admin of authenticators shows the TOTP secret and lets it be edited: replaced by a
# list without the secret. Removing an authenticator (a lost phone) stays possible and is logged.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "type",
        roc_column("created_at", _("建立時間")),
        roc_column("last_used_at", _("上次使用")),
    ]
    list_filter = ["type"]
    fields = ["user", "type"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# django-auditlog's list with ROC times.
admin.site.unregister(AuditLogEntry)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(AuditLogEntryAdmin):
    date_hierarchy = None  # its year links would be Gregorian

    @admin.display(description=_("時間"), ordering="timestamp")
    def created(self, obj):
        return roc(obj.timestamp) if obj.timestamp else "—"
