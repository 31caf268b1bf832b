"""Business account screens (業務帳號): apply, directory, the three management screens, the audit log."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import applying, permissions, selectors, services
from accounts.filters import DirectoryFilter, SecurityEventFilter
from accounts.forms import BusinessAccountApplyForm, ChangeTypeForm
from accounts.models import BusinessAccount, BusinessAccountType
from accounts.permissions import Perm, Role, requires
from accounts.services import Refusal
from core.refusals import refused_response

# Which refusal belongs to which field of the application form. Only refusals that depend on the
# unit the visitor chose, never on whose ID it is (accounts.applying).
_APPLY_ERROR_FIELDS = {
    Refusal.TYPE_NOT_ALLOWED: "account_type",
    Refusal.UNIT_NOT_OPEN: "unit_code",
}
APPLY_ACTION = "business_account_apply"


@sensitive_post_parameters("national_id", "password1", "password2")
@require_http_methods(["GET", "POST"])
def apply(request):
    """業務帳號申請: anyone may apply; the account stays pending until its manager enables it.

    Not an oracle (accounts.applying): once the typed data is well-formed the answer is always
    申請已送出, whoever the ID belongs to; the form is throttled per client and per ID.
    """
    if request.method == "POST" and not applying.allowed_client(request, APPLY_ACTION):
        return applying.too_many(request)
    form = BusinessAccountApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not applying.allowed_id(request, APPLY_ACTION, data["national_id"]):
            return applying.too_many(request)
        try:
            services.business_account_apply(
                unit=form.unit,
                account_type=data["account_type"],
                national_id=data["national_id"],
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                username=data["username"],
                password=data["password1"],
            )
        except services.BusinessAccountError as error:
            form.add_error(_APPLY_ERROR_FIELDS.get(error.code), error.message)
        else:
            return redirect("accounts:apply-done")
    return render(request, "accounts/apply.html", {"form": form})


def apply_done(request):
    return render(request, "accounts/apply_done.html")


def directory(request):
    """業務帳號查詢 (public): 總負責人 and 連絡人 of a unit with phone and email; throttled for
    anonymous clients, so that it cannot be harvested."""
    if not request.user.is_authenticated and not applying.allowed_client(request, "directory"):
        return applying.too_many(request)
    filterset = DirectoryFilter(request.GET or None, queryset=selectors.directory())
    page = None
    if filterset.is_bound and filterset.is_valid() and filterset.has_criteria:
        page = Paginator(filterset.qs, 20).get_page(request.GET.get("page"))
    return render(request, "accounts/directory.html", {"filter": filterset, "page": page})


def _rows(actor, accounts, problems=None):
    """Each account with the actions the actor may take on it (rule 2), decided here, not in templates,
    and, for an application, what its manager must know before enabling it."""
    accounts = list(accounts)
    if problems is None:
        problems = services.application_problems_of(accounts)
    return [
        {
            "account": account,
            "can_manage": permissions.may_manage_business_account(
                actor, unit=account.unit, account_type=account.type
            ),
            "problems": problems.get(account.pk, []),
        }
        for account in accounts
    ]


@requires(Perm.UNIT_BUSINESS_ACCOUNTS)
def unit_accounts(request):
    """本單位業務帳號管理 (總負責人)."""
    accounts = selectors.business_accounts_visible_to(request.user)
    return render(
        request,
        "accounts/unit_accounts.html",
        {"rows": _rows(request.user, accounts), "unit": permissions.unit_of(request.user)},
    )


@requires(Perm.CENTRE_CHIEF_MANAGEMENT)
def centre_chiefs(request):
    """總負責人管理 (區管中心): each school's 總負責人, schools without one first."""
    schools = selectors.schools_with_chiefs(request.user)
    page = Paginator(schools, 50).get_page(request.GET.get("page"))
    problems = services.application_problems_of([a for school in page for a in school.chief_accounts])
    for school in page:
        school.rows = _rows(request.user, school.chief_accounts, problems)
    return render(
        request,
        "accounts/centre_chiefs.html",
        {"page": page, "authority": permissions.unit_of(request.user)},
    )


@requires(Perm.OPERATOR_ACCOUNTS)
def operator_accounts(request):
    """Accounts of 大專校院, 法人, 社教機構 and the regional centres, managed by the operator."""
    accounts = selectors.business_accounts_visible_to(request.user)
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    return render(
        request, "accounts/operator_accounts.html", {"page": page, "rows": _rows(request.user, page)}
    )


@requires(Perm.AUDIT_LOG)
def audit_log(request):
    """業務帳號異動紀錄: who enabled, changed or deleted which account, when, before and after."""
    page = Paginator(selectors.business_account_audit_log(), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit_log.html", {"page": page})


@requires(Perm.AUDIT_LOG)
def security_log(request):
    """安全稽核紀錄: sign-ins and refused requests, filtered; read-only, like every audit page."""
    filterset = SecurityEventFilter(request.GET or None, queryset=selectors.security_events())
    events = filterset.qs if filterset.is_bound and filterset.is_valid() else selectors.security_events()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/security_log.html",
        {"filter": filterset, "page": page, "retention_days": settings.SECURITY_LOG_RETENTION_DAYS},
    )


@requires(Perm.AUDIT_LOG)
def admin_log(request):
    """管理後台異動紀錄: every change made in the Django admin, by whom and when (issue 9 point 3)."""
    page = Paginator(selectors.admin_log_entries(), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/admin_log.html", {"page": page})


def _manage_home(actor) -> str:
    role = permissions.role_of(actor)
    if role == Role.CENTRE:
        return reverse("accounts:centre-chiefs")
    if role == Role.OPERATOR:
        return reverse("accounts:operator-accounts")
    return reverse("accounts:unit-accounts")


def _managed_account(request, pk: int) -> BusinessAccount:
    """An account the actor may see (else 404) and manage (else 403)."""
    if not permissions.may_manage_any_business_account(request.user):
        raise PermissionDenied
    account = get_object_or_404(selectors.business_accounts_visible_to(request.user), pk=pk)
    if not permissions.may_manage_business_account(
        request.user, unit=account.unit, account_type=account.type
    ):
        raise PermissionDenied
    return account


def _refused(request, template, context, error):
    return refused_response(request, error, template, context)


def _confirmed_action(request, pk: int, *, service, template: str, done: str):
    """A confirmation page (GET) and the action itself (POST) on one managed account."""
    account = _managed_account(request, pk)
    context = {
        "account": account,
        "back": _manage_home(request.user),
        "problems": services.application_problems_of([account]).get(account.pk, []),
    }
    if request.method == "POST":
        try:
            service(actor=request.user, account=account)
        except services.BusinessAccountError as error:
            return _refused(request, template, context, error)
        messages.success(request, done % {"user": account.username})
        return redirect(context["back"])
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def enable(request, pk: int):
    return _confirmed_action(
        request,
        pk,
        service=services.business_account_enable,
        template="accounts/confirm_enable.html",
        done=_("已啟用 %(user)s 的業務帳號。"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def change_type(request, pk: int):
    account = _managed_account(request, pk)
    allowed = permissions.business_account_new_types(request.user, unit=account.unit, old_type=account.type)
    choices = [(value, label) for value, label in BusinessAccountType.choices if value in allowed]
    form = ChangeTypeForm(request.POST or None, choices=choices)
    context = {"account": account, "form": form, "back": _manage_home(request.user)}
    if request.method == "POST" and form.is_valid():
        try:
            services.business_account_change_type(
                actor=request.user, account=account, new_type=form.cleaned_data["new_type"]
            )
        except services.BusinessAccountError as error:
            return _refused(request, "accounts/change_type.html", context, error)
        messages.success(request, _("已變更 %(user)s 的帳號類型。") % {"user": account.username})
        return redirect(context["back"])
    return render(request, "accounts/change_type.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, pk: int):
    return _confirmed_action(
        request,
        pk,
        service=services.business_account_delete,
        template="accounts/confirm_delete.html",
        done=_("已刪除 %(user)s 的業務帳號。"),
    )
