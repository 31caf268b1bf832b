"""帳號漫遊 pages: prove who you are once, after the first MOE SSO sign-in (teachers.sso)."""

from __future__ import annotations

import logging

from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import applying
from accounts.forms import LoginForm
from accounts.models import User
from teachers import services, sso
from teachers.models import AccountStatus
from teachers.people_views import NoEcho
from teachers.services import RosterError

BACKEND = "allauth.account.auth_backends.AuthenticationBackend"
logger = logging.getLogger(__name__)

# The one answer of 方式一 for every failure (issue 16 point 1): a wrong password, an unknown
# account, a locked-out account (allauth's failed-sign-in limit), a business or operator account, an
# account with a second factor, a disabled teacher account, an account already bound. Which of
# these it was is never said, so the page confirms no password.
MSG_NOT_BOUND = gettext_lazy(
    "無法以此帳號綁定。可能是帳號或密碼不正確、登入失敗次數過多而暫停登入，"
    "或這不是可在此綁定的教師個人帳號（只限啟用中、未設定兩步驟驗證且尚未綁定的教師個人帳號；"
    "業務帳號不能綁定帳號漫遊）。請確認後再試，或改用下方方式二。"
)


class AccountProofForm(forms.Form):
    login = forms.CharField(label=gettext_lazy("教師個人帳號（使用者帳號或電子郵件）"), max_length=150)
    password = forms.CharField(label=gettext_lazy("密碼"), widget=forms.PasswordInput)


class IdProofForm(forms.Form):
    national_id = forms.CharField(label=gettext_lazy("身分證字號"), max_length=20, widget=NoEcho)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=60)


@require_http_methods(["GET", "POST"])
def bind(request):
    pending = request.session.get(sso.SESSION_KEY)
    if not pending:
        return redirect("account_login")
    method = request.POST.get("method")
    account_form = AccountProofForm(request.POST if method == "account" else None, prefix="account")
    id_form = IdProofForm(request.POST if method == "id" else None, prefix="id")
    if method == "account" and account_form.is_valid():
        user = _password_proof(
            request, account_form.cleaned_data["login"], account_form.cleaned_data["password"]
        )
        if user is not None:
            try:
                sso.sso_binding_by_account(
                    user=user, uid=pending["uid"], eduinfo=pending.get("eduinfo") or {}
                )
            except RosterError as exc:
                logger.info("roaming bind refused after a right password: %s", exc.message)
                user = None
        if user is None:
            account_form.add_error(None, MSG_NOT_BOUND)
        else:
            del request.session[sso.SESSION_KEY]
            login(request, user, backend=BACKEND)
            messages.success(request, _("已綁定帳號漫遊，之後可直接以教育體系單一簽入登入。"))
            return redirect("home")
    if method == "id" and id_form.is_valid():
        # The per-client limit answers 429 (it says nothing about the ID). Past the per-ID limit
        # (shared with 申請教師帳號) the answer is the usual receipt and no mail goes: the limit
        # itself must not tell that an ID is being asked about, nor let anyone block a teacher.
        if not applying.allowed_client(request, services.APPLY_ACTION):
            return render(request, "teachers/apply_throttled.html", status=429)
        national_id_value = id_form.cleaned_data["national_id"]
        if applying.allowed_id(request, services.APPLY_ACTION, national_id_value):
            sso.sso_binding_request(
                national_id_value=national_id_value,
                name=id_form.cleaned_data["name"],
                uid=pending["uid"],
                eduinfo=pending.get("eduinfo") or {},
                asker=pending.get("asker") or "",
                site=request.build_absolute_uri("/").rstrip("/"),
            )
        del request.session[sso.SESSION_KEY]
        return redirect("teachers:sso-sent")
    return render(request, "teachers/sso_bind.html", {"account_form": account_form, "id_form": id_form})


def _password_proof(request, typed_login: str, password: str) -> User | None:
    """The password check of 方式一, through allauth exactly as the sign-in page does it: the
    per-client sign-in limit ("login"), the failed-sign-in limit per account and per client
    ("login_failed", which is also the lock-out), the security log. The user only when the
    password is right AND the account may be bound here; None for every other case."""
    if not ratelimit.consume(request, action="login"):
        return None
    form = LoginForm(data={"login": typed_login, "password": password}, request=request)
    if not form.is_valid():  # wrong password, unknown account, locked out
        return None
    user = form.user
    if not bindable_by_password(user):
        logger.info("roaming bind refused after a right password: not a bindable teacher account")
        return None
    return user


def bindable_by_password(user: User) -> bool:
    """SSO is for teachers only (docs/architecture.md): an active teacher account without a second
    factor. A business or operator account is never bound; nor is an account with a second factor,
    since this page cannot ask for it (such a teacher uses 方式二)."""
    if not user.is_active or user.is_staff or user.is_superuser:
        return False
    if hasattr(user, "business_account"):
        return False
    if Authenticator.objects.filter(user=user).exists():
        return False
    account = getattr(user, "teacher_account", None)
    return account is not None and account.status == AccountStatus.ACTIVE


def sent(request):
    return render(request, "teachers/sso_sent.html")


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """The mailed link (方式二): GET shows who asked and what will be bound (mail gateways follow
    links), POST binds. Nothing about the person changes before the POST."""
    try:
        binding = sso.binding_from_token(token)
    except RosterError as exc:
        return render(request, "teachers/sso_sent.html", {"error": exc.message}, status=exc.status)
    if request.method == "POST":
        try:
            sso.sso_binding_confirm(token=token)
        except RosterError as exc:
            return render(request, "teachers/sso_sent.html", {"error": exc.message}, status=exc.status)
        messages.success(request, _("已綁定帳號漫遊，請以教育體系單一簽入登入。"))
        return redirect("account_login")
    return render(request, "teachers/sso_confirm.html", binding)
