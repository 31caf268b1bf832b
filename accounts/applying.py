"""Public application forms that are not oracles (issue 9 points 1 and 2), for every kind of application.

A public form that takes a national ID must answer the same whoever the ID belongs to: it checks
only what the visitor typed (format, checksum, a unit that exists), then always says
申請已送出. Whatever depends on the data of other people (is the ID on a roster, does it already
hold an account, does the name match, is the username or e-mail taken) is shown to the manager
who reviews the application, or sent to the e-mail address that was given, never to the page.

Both limits use allauth's rate-limit machinery (the shared cache): per client address, and per
national ID, keyed by the ID's HMAC digest so the cache never holds an ID.
"""

from allauth.core.internal import ratelimit as ratelimit_impl
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from accounts import national_id

MSG_TOO_MANY = _("送出次數過多，請稍後再試（約一小時後）。")


def _consume(request, action: str, key=None) -> bool:
    # allauth's own limiter (the public wrapper skips GET requests; a directory is read by GET).
    usage = ratelimit_impl.consume(
        request=request, app="allauth.account", action=action, key=key, limit_get=True
    )
    return bool(usage)


def allowed_client(request, action: str) -> bool:
    """One use of settings.ACCOUNT_RATE_LIMITS[action] (per client address), before the form is read."""
    return _consume(request, action)


def allowed_user(request, action: str) -> bool:
    """One use of settings.ACCOUNT_RATE_LIMITS[action] for a signed-in actor (a per-user rate)."""
    return _consume(request, action)


def allowed_id(request, action: str, national_id_value: str) -> bool:
    """One use of settings.ACCOUNT_RATE_LIMITS[action + "_per_id"], keyed by the ID's digest."""
    return _consume(request, f"{action}_per_id", key=national_id.digest(national_id_value))


def allowed(request, action: str, national_id_value: str) -> bool:
    """Both limits at once, each attempt counted against both (the client's and the ID's budget)."""
    client_ok = allowed_client(request, action)
    id_ok = allowed_id(request, action, national_id_value)
    return client_ok and id_ok


def too_many(request, *, template: str = "accounts/too_many.html"):
    """The answer once a limit is spent: 429, the same for every ID."""
    return render(request, template, {"message": MSG_TOO_MANY}, status=429)


def tell_applicant(*, email: str, subject: str, template: str, context: dict) -> None:
    """Write to the address the applicant gave, after the transaction commits."""
    body = render_to_string(template, context)
    transaction.on_commit(
        lambda: send_mail(str(subject), body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=True)
    )
