from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from accounts import permissions
from inservice.navigation import MENU, MENU_BY_KEY, ROLE_LABELS


def _role_overview() -> list[dict]:
    """What each role can do, from the permission matrix and the menu; open pages apart from those
    still being built, so the home page never promises what does not exist."""
    overview = []
    for role, label in ROLE_LABELS.items():
        granted = permissions.ROLE_PERMISSIONS[role]
        entries = [entry for entry in MENU if entry.perm in granted]
        overview.append(
            {
                "label": label,
                "open": [entry for entry in entries if not entry.placeholder],
                "coming": [entry for entry in entries if entry.placeholder],
            }
        )
    return overview


def home(request):
    public = [entry for entry in MENU if entry.perm is None]
    return render(
        request,
        "inservice/home.html",
        {
            "roles": _role_overview(),
            "public_open": [entry for entry in public if not entry.placeholder],
            "public_coming": [entry for entry in public if entry.placeholder],
        },
    )


@login_required
def account_settings(request):
    """帳號設定: one page that leads to every account page (e-mail, password, two-step verification)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    authenticators = {a.type: a for a in Authenticator.objects.filter(user=request.user)}
    recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    return render(
        request,
        "account/settings.html",
        {
            "emails": EmailAddress.objects.filter(user=request.user).order_by("-primary", "email"),
            "totp_active": Authenticator.Type.TOTP in authenticators,
            "recovery_codes_left": len(recovery.wrap().get_unused_codes()) if recovery else None,
            "mfa_required": permissions.requires_mfa(request.user),
        },
    )


def placeholder(request, key: str):
    """A menu entry whose page arrives with a later capability; guarded like the real page will be."""
    entry = MENU_BY_KEY.get(key)
    if entry is None:
        raise Http404
    if entry.perm is not None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        permissions.require(request.user, entry.perm)
    return render(request, "inservice/placeholder.html", {"entry": entry})


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
