"""Session and sign-in rules that apply to every request (SPEC §9)."""

import re
import time

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext_lazy

from accounts import permissions

SESSION_STARTED_KEY = "inservice_signed_in_at"

MSG_SESSION_EXPIRED = gettext_lazy("登入已超過 12 小時，請重新登入。")
MSG_MFA_REQUIRED = gettext_lazy("業務帳號須先設定兩步驟驗證（手機上的驗證器 App），才能使用業務功能。")

# Paths a business account may reach before it has a second factor: setting one up, signing out.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/")


class AbsoluteSessionLimitMiddleware:
    """Ends a session 12 hours after sign-in, however active it was (idle expiry is the cookie age).

    Also sends a business account without a TOTP authenticator to the set-up page before any other
    page, so that no business page is reached on a password alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_LIMIT_SECONDS:
                logout(request)
                messages.info(request, MSG_SESSION_EXPIRED)
                return redirect(settings.LOGIN_URL)
            if self._needs_mfa_setup(request):
                messages.warning(request, MSG_MFA_REQUIRED)
                return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _needs_mfa_setup(request) -> bool:
        if request.path.startswith(_MFA_EXEMPT_PREFIXES) or not permissions.requires_mfa(request.user):
            return False
        # The business account was read with has_totp (permissions._business_account); an operator
        # without one is asked here.
        has_totp = getattr(permissions.active_business_account(request.user), "has_totp", None)
        if has_totp is None:
            has_totp = Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()
        return not has_totp


class NoStoreForSignedInMiddleware:
    """Signed-in pages carry personal data: no browser or proxy keeps a copy (issue 9 point 6).

    The public application form is included, since it is shown again with what was typed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False) or request.method == "POST":
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


# Field names whose values never reach an error report (Django's SafeExceptionReporterFilter).
SENSITIVE_FIELD_RE = re.compile(r"password|national_id|^code$|^otp", re.I)


class SensitivePostParametersMiddleware:
    """sensitive_post_parameters for every view (issue 9 point 6), including allauth's views that
    lack it (password reset from a key, re-authentication) and views still to come: any posted
    field named like a password, a national ID or a one-time code is hidden from error reports.
    A view's own sensitive_post_parameters decorator, when present, marks the same or more."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After CsrfViewMiddleware, which has read the body already; a csrf_exempt view may choose
        # its own upload handlers, so its body is left unread.
        if request.method == "POST" and not getattr(view_func, "csrf_exempt", False):
            names = [name for name in request.POST if SENSITIVE_FIELD_RE.search(name)]
            if names:
                request.sensitive_post_parameters = names
        return None
