import logging
import os

import redis
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts import permissions
from accounts import selectors as account_selectors
from accounts.permissions import Role
from inservice.navigation import MENU
from planning import selectors as planning_selectors
from teachers.feeds import failed_latest_runs


def _role_overview() -> list[dict]:
    """What each role can do, from the permission matrix and the menu."""
    return [
        {
            "label": role.label,
            "open": [entry for entry in MENU if entry.perm in permissions.ROLE_PERMISSIONS[role]],
        }
        for role in Role
    ]


def home(request):
    public = [entry for entry in MENU if entry.perm is None]
    return render(
        request,
        "inservice/home.html",
        {
            "roles": _role_overview(),
            "public_open": public,
            "my_windows": planning_selectors.home_windows(request.user),
            "open_windows": planning_selectors.open_window_announcements(),
            "announcements": planning_selectors.announcements_for(request.user, limit=5),
            "failed_feed_runs": _failed_feed_runs(request.user),
        },
    )


def _failed_feed_runs(user):
    """The operator's home page shows a failed nightly sync until the source's next good run."""
    if not permissions.has_perm(user, permissions.Perm.OPERATOR_ADMIN):
        return []

    return failed_latest_runs()


@login_required
def account_settings(request):
    """帳號設定: one page that leads to every account page (e-mail, password, two-step verification)."""
    authenticators = {a.type: a for a in account_selectors.authenticators_of(request.user)}
    recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    return render(
        request,
        "account/settings.html",
        {
            "emails": account_selectors.email_addresses_of(request.user),
            "totp_active": Authenticator.Type.TOTP in authenticators,
            "recovery_codes_left": len(recovery.wrap().get_unused_codes()) if recovery else None,
            "mfa_required": permissions.requires_mfa(request.user),
        },
    )


health_log = logging.getLogger("inservice.health")


@never_cache
def healthz(request):
    """The web service's health check (docker-compose.yml): the database answers, Redis answers and
    the media root is writable; 503 naming the failed part otherwise (no detail: it is public)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        health_log.exception("health check: database")
        checks["database"] = "error"
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3).ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            health_log.exception("health check: redis")
            checks["redis"] = "error"
    try:
        os.makedirs(settings.MEDIA_ROOT, exist_ok=True)
        checks["media"] = "ok" if os.access(settings.MEDIA_ROOT, os.W_OK) else "error"
    except OSError:
        checks["media"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
