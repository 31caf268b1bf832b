"""Reads of units and business accounts, already scoped to what the actor may see."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from auditlog.models import LogEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, When

from accounts import permissions
from accounts.models import (
    BusinessAccount,
    BusinessAccountStatus,
    BusinessAccountType,
    SecurityEvent,
    Unit,
    UnitKind,
)
from accounts.permissions import Role


def business_accounts_visible_to(actor) -> QuerySet[BusinessAccount]:
    """Live accounts the actor manages or sees on a management screen (permissions.SEES); others answer 404."""
    return (
        BusinessAccount.objects.live()
        .filter(permissions.business_account_scope(actor))
        .select_related("unit", "person", "user")
    )


def schools_with_chiefs(actor) -> QuerySet[Unit]:
    """The centre's schools with their 總負責人; schools without an active one come first."""
    own = permissions.unit_of(actor)
    if permissions.role_of(actor) != Role.CENTRE or own is None:
        return Unit.objects.none()
    chiefs = (
        BusinessAccount.objects.live()
        .filter(permissions.business_account_scope(actor), type=BusinessAccountType.CHIEF)
        .select_related("person")
    )
    return (
        Unit.objects.schools()
        .filter(authority=own)
        .annotate(
            active_chiefs=Count(
                "business_accounts",
                filter=Q(
                    business_accounts__type=BusinessAccountType.CHIEF,
                    business_accounts__status=BusinessAccountStatus.ACTIVE,
                ),
            )
        )
        .prefetch_related(Prefetch("business_accounts", queryset=chiefs, to_attr="chief_accounts"))
        .annotate(has_chief=Case(When(active_chiefs__gt=0, then=1), default=0, output_field=IntegerField()))
        .order_by("has_chief", "code")
    )


def directory() -> QuerySet[BusinessAccount]:
    """業務帳號查詢: active 總負責人 and 連絡人 (never 作業人員) with their unit's contact data."""
    return (
        BusinessAccount.objects.filter(
            status=BusinessAccountStatus.ACTIVE, type__in=permissions.DIRECTORY_TYPES
        )
        .exclude(unit__kind=UnitKind.OPERATOR)  # the operator's own accounts are not a unit's contacts
        .select_related("unit", "person", "user")
        .order_by("unit__code", "type", "person__name")
    )


def business_account_audit_log() -> QuerySet[LogEntry]:
    """Every enable, type change and deletion (and application) of a business account, newest first."""
    content_type = ContentType.objects.get_for_model(BusinessAccount)
    # The actor's business account too: the audit list shows the sign-in name it had (audit_display).
    return (
        LogEntry.objects.filter(content_type=content_type)
        .select_related("actor__business_account")
        .order_by("-timestamp")
    )


def security_events() -> QuerySet[SecurityEvent]:
    """安全稽核紀錄: every sign-in and refused request, newest first (the model's order)."""
    return SecurityEvent.objects.all()


def admin_log_entries() -> QuerySet[AdminLogEntry]:
    """管理後台異動紀錄: every change made in the Django admin, newest first, with who and what."""
    return AdminLogEntry.objects.select_related("user", "content_type").order_by("-action_time", "-pk")


def authenticators_of(user) -> QuerySet[Authenticator]:
    """The user's two-step verification devices (帳號設定)."""
    return Authenticator.objects.filter(user=user)


def email_addresses_of(user) -> QuerySet[EmailAddress]:
    """The user's e-mail addresses, the primary first (帳號設定)."""
    return EmailAddress.objects.filter(user=user).order_by("-primary", "email")
