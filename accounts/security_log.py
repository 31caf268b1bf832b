"""The security audit trail (安全稽核紀錄): who signed in, who failed, and every refused request.

One writer (record) for every event, fed by allauth's and Django's signals, by the account
adapter (lock-outs), by the social account adapter (a failed 帳號漫遊, with its reason) and by AccessDecisionLogMiddleware (every 403 and 404 answered by a view):
the one place where denied access decisions are logged (SPEC §9). Entries hold the user, the
time, the client address and the path without its query string, never a national ID or a
password; they are kept settings.SECURITY_LOG_RETENTION_DAYS days (purge, a Celery beat task).
"""

import datetime as dt
import logging

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.mfa import signals as mfa_signals
from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import SecurityEvent, SecurityEventKind, User
from accounts.national_id import redact

log = logging.getLogger(__name__)
Kind = SecurityEventKind


def client_ip(request) -> str | None:
    """The client's address as the rate limits see it (allauth honours DJANGO_TRUSTED_PROXY_COUNT)."""
    try:
        return get_adapter().get_client_ip(request)
    except (PermissionDenied, ValueError):
        return None


def _user_of(request, user):
    if user is not None:
        return user
    candidate = getattr(request, "user", None)
    return candidate if getattr(candidate, "is_authenticated", False) else None


def record(
    kind: SecurityEventKind, *, request=None, user=None, username: str = "", reason: str = ""
) -> SecurityEvent:
    user = _user_of(request, user)
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=redact(username or (user.get_username() if user else ""))[:150],
        ip=client_ip(request) if request is not None else None,
        path=redact(getattr(request, "path", "") or "")[:300],
        method=(getattr(request, "method", None) or "")[:8],
        reason=redact(reason or "")[:80],
    )


def purge(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than the retention period; returns how many went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.SECURITY_LOG_RETENTION_DAYS)
    deleted, _ = SecurityEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


def user_for_login(login: str):
    """The account a typed sign-in name (username or e-mail) belongs to, or None."""
    login = (login or "").strip()
    if not login:
        return None
    return (
        User.objects.filter(
            Q(username__iexact=login) | Q(emailaddress__email__iexact=login) | Q(email__iexact=login)
        )
        .order_by("pk")
        .first()
    )


def _typed_login(credentials: dict) -> str:
    return str(credentials.get("username") or credentials.get("email") or credentials.get("login") or "")


# Receivers --------------------------------------------------------------------------------------------


@receiver(auth_signals.user_logged_in, dispatch_uid="security_log_sign_in")
def _signed_in(sender, request, user, **kwargs):
    record(Kind.SIGN_IN, request=request, user=user)


@receiver(auth_signals.user_login_failed, dispatch_uid="security_log_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    typed = _typed_login(credentials)
    record(Kind.SIGN_IN_FAILED, request=request, user=user_for_login(typed), username=typed)


def locked_out(request, credentials: dict) -> None:
    """Called by the account adapter when the failed-sign-in limit refuses an attempt."""
    typed = _typed_login(credentials)
    record(Kind.LOCKED_OUT, request=request, user=user_for_login(typed), username=typed)


@receiver(mfa_signals.authentication_failed, dispatch_uid="security_log_mfa_failed")
def _mfa_failed(sender, request, user, **kwargs):
    record(Kind.MFA_FAILED, request=request, user=user)


@receiver(account_signals.password_changed, dispatch_uid="security_log_password_changed")
@receiver(account_signals.password_set, dispatch_uid="security_log_password_set")
def _password_changed(sender, request, user, **kwargs):
    record(Kind.PASSWORD_CHANGED, request=request, user=user)


@receiver(account_signals.password_reset, dispatch_uid="security_log_password_reset")
def _password_reset(sender, request, user, **kwargs):
    record(Kind.PASSWORD_RESET, request=request, user=user)


@receiver(account_signals.email_changed, dispatch_uid="security_log_email_changed")
@receiver(account_signals.email_added, dispatch_uid="security_log_email_added")
@receiver(account_signals.email_removed, dispatch_uid="security_log_email_removed")
def _email_changed(sender, request, user, **kwargs):
    record(Kind.EMAIL_CHANGED, request=request, user=user)


@receiver(mfa_signals.authenticator_added, dispatch_uid="security_log_mfa_added")
@receiver(mfa_signals.authenticator_removed, dispatch_uid="security_log_mfa_removed")
@receiver(mfa_signals.authenticator_reset, dispatch_uid="security_log_mfa_reset")
def _mfa_changed(sender, request, user, **kwargs):
    record(Kind.MFA_CHANGED, request=request, user=user)


class AccessDecisionLogMiddleware:
    """Every 403, and every 404 answered by a view (a protected object the actor may not see), is
    written to the security audit trail. A 404 for a path no view serves is a typo or a scanner,
    not an access decision, and is left out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            self._record(Kind.FORBIDDEN, request)
        elif response.status_code == 404 and getattr(request, "resolver_match", None) is not None:
            self._record(Kind.NOT_FOUND, request)
        return response

    @staticmethod
    def _record(kind, request):
        try:
            record(kind, request=request)
        except Exception:  # the answer to the user must not depend on the log
            log.exception("security audit trail: could not record %s", kind)
