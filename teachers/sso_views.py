"""帳號漫遊 pages: prove who you are once, after the first MOE SSO sign-in (teachers.sso)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import applying
from teachers import services, sso
from teachers.people_views import NoEcho
from teachers.services import RosterError

BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


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
        user = authenticate(
            request,
            username=account_form.cleaned_data["login"],
            password=account_form.cleaned_data["password"],
        )
        if user is None:
            account_form.add_error(None, _("帳號或密碼不正確。"))
        else:
            try:
                sso.bind_with_teacher_account(
                    user=user, uid=pending["uid"], eduinfo=pending.get("eduinfo") or {}
                )
            except RosterError as exc:
                account_form.add_error(None, exc.message)
            else:
                del request.session[sso.SESSION_KEY]
                login(request, user, backend=BACKEND)
                messages.success(request, _("已綁定帳號漫遊，之後可直接以教育體系單一簽入登入。"))
                return redirect("home")
    if method == "id" and id_form.is_valid():
        # Throttled like 申請教師帳號 (the same counters: one budget per client and per ID).
        if not applying.allowed(request, services.APPLY_ACTION, id_form.cleaned_data["national_id"]):
            return render(request, "teachers/apply_throttled.html", status=429)
        sso.request_binding_by_id(
            national_id=id_form.cleaned_data["national_id"],
            name=id_form.cleaned_data["name"],
            uid=pending["uid"],
            eduinfo=pending.get("eduinfo") or {},
            site=request.build_absolute_uri("/").rstrip("/"),
        )
        del request.session[sso.SESSION_KEY]
        return redirect("teachers:sso-sent")
    return render(request, "teachers/sso_bind.html", {"account_form": account_form, "id_form": id_form})


def sent(request):
    return render(request, "teachers/sso_sent.html")


def confirm(request, token: str):
    try:
        sso.confirm_binding(token=token)
    except RosterError as exc:
        return render(request, "teachers/sso_sent.html", {"error": exc.message}, status=400)
    messages.success(request, _("已綁定帳號漫遊，請以教育體系單一簽入登入。"))
    return redirect("account_login")
