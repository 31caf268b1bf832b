"""帳號漫遊: MOE education SSO (SPEC §3.3) through allauth's OpenID Connect provider `moe`.

The `sub` of the MOE SSO is bound to a person once. On the first roaming sign-in the teacher proves
who they are, either by signing in with their existing teacher account, or with national ID and name
against the roster, confirmed like an application (a link e-mailed to the address the roster holds;
the answer page is the same whatever was typed). From then on SSO alone signs them in, through
their teacher account (so it counts as 已申請 含帳號漫遊). Every roaming sign-in reads the eduinfo
resource with the access token and, when it names another school than the current membership,
moves the person there with `person_transfer` (source 帳號漫遊).
"""

from __future__ import annotations

import json
import logging
import urllib.request

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import national_id, security_log
from accounts.models import Person, Unit, UnitKind, User
from core.refusals import Kind
from teachers import oidc, services, trust
from teachers.models import AccountStatus, Category, Membership, TeacherAccount

logger = logging.getLogger(__name__)

PROVIDER = "moe"
SOURCE = "帳號漫遊"
SESSION_KEY = "teachers.sso.pending"
BIND_SALT = "teachers.sso.bind"
BIND_MAX_AGE = 3 * 24 * 3600
MSG_BAD_LINK = gettext_lazy("確認連結無效或已過期，請重新以帳號漫遊登入。")


def eduinfo_fetch(access_token: str) -> dict:
    """The eduinfo resource: {"schoolid": "…", "titles": [{"schoolid": "…", "titles": ["教師"]}]}."""
    request = urllib.request.Request(
        settings.MOE_SSO_EDUINFO_URL, headers={"Authorization": f"Bearer {access_token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (configured URL)
            data = json.loads(response.read().decode("utf-8"))
    except Exception as exc:  # the sign-in still works; the school is updated next time
        logger.warning("eduinfo unavailable: %s", type(exc).__name__)
        return {}
    return data if isinstance(data, dict) else {}


def _titles(eduinfo: dict) -> list[str]:
    found = []
    for entry in eduinfo.get("titles") or []:
        if isinstance(entry, dict):
            found += [str(t) for t in entry.get("titles") or []]
    return found


def person_school_update(person: Person, eduinfo: dict) -> Membership | None:
    """Move the person to the school eduinfo names, when it is another one; the new membership or None."""
    code = str(eduinfo.get("schoolid") or "").strip()
    unit = Unit.objects.filter(code=code, kind=UnitKind.SCHOOL).first() if code else None
    if unit is None:
        return None
    current = person.memberships.filter(end_date__isnull=True).first()
    if current is not None and current.unit_id == unit.pk:
        return None
    titles = _titles(eduinfo)
    category = Category.TEACHER if any("教師" in t for t in titles) or not titles else Category.STAFF
    try:
        return services.person_transfer(
            person=person,
            to_unit=unit,
            on=timezone.localdate(),
            source=SOURCE,
            category=category,
            title=titles[0][:60] if titles else None,
        )
    except services.RosterError as exc:  # e.g. the current membership started today
        logger.info("roaming school update skipped: %s", exc.message)
        return None


def failure_reason(error, exception) -> str:
    """A failed sign-in's reason as a short code: the id_token check's (teachers.oidc.TokenRefused),
    else allauth's error and the exception's class (a spent or foreign state, a denied consent)."""
    reason = getattr(exception, "reason", None)
    if reason:
        return str(reason)
    parts = [str(error or ""), type(exception).__name__ if exception is not None else ""]
    return ":".join(part for part in parts if part) or "unknown"


class MoeSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Only a bound `sub` signs in; an unbound one is sent to prove who they are (no sign-up)."""

    def get_provider(self, request, provider, client_id=None):
        found = super().get_provider(request, provider, client_id=client_id)
        app = getattr(found, "app", None)
        if app is not None and app.provider_id == PROVIDER and not isinstance(found, oidc.MoeProvider):
            return oidc.MoeProvider(request, app=app)
        return found

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        """A failed SSO sign-in: logged with its reason (a code, never an ID or a token); the
        page (socialaccount/authentication_error.html) says what to do next."""
        reason = failure_reason(error, exception)
        logger.warning(
            "SSO sign-in failed: provider=%s error=%s reason=%s",
            getattr(getattr(provider, "app", None), "provider_id", "") or getattr(provider, "id", ""),
            error or "",
            reason,
        )
        security_log.record(security_log.Kind.SSO_FAILED, request=request, reason=reason)
        return super().on_authentication_error(
            request, provider, error=error, exception=exception, extra_context=extra_context
        )

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        if sociallogin.account.provider != PROVIDER:
            return
        eduinfo = eduinfo_fetch(sociallogin.token.token) if sociallogin.token else {}
        if sociallogin.is_existing:
            person = sociallogin.user.person
            if person is not None:
                person_school_update(person, eduinfo)
            return
        userinfo = (sociallogin.account.extra_data or {}).get("userinfo") or {}
        request.session[SESSION_KEY] = {
            "uid": sociallogin.account.uid,
            "eduinfo": eduinfo,
            "asker": str(userinfo.get("name") or "")[:60],
        }
        raise ImmediateHttpResponse(redirect("teachers:sso-bind"))


def _bind(user: User, uid: str, eduinfo: dict) -> SocialAccount:
    if SocialAccount.objects.filter(provider=PROVIDER, uid=uid).exists():
        raise services.RosterError(_("此教育體系單一簽入帳號已綁定其他教師。"), code="sso_bound_elsewhere")
    if SocialAccount.objects.filter(provider=PROVIDER, user=user).exists():
        raise services.RosterError(
            _("此教師帳號已綁定另一個教育體系單一簽入帳號。"), code="account_bound_elsewhere"
        )
    account = SocialAccount.objects.create(user=user, provider=PROVIDER, uid=uid, extra_data={})
    if user.person is not None:
        person_school_update(user.person, eduinfo)
    return account


@transaction.atomic
def sso_binding_by_account(*, user: User, uid: str, eduinfo: dict) -> SocialAccount:
    """Proof by signing in with an existing, 啟用中 teacher account."""
    account = TeacherAccount.objects.filter(user=user, status=AccountStatus.ACTIVE).first()
    if account is None:
        raise services.RosterError(_("只有啟用中的教師個人帳號可以綁定帳號漫遊。"), code="not_active")
    return _bind(user, uid, eduinfo)


def sso_binding_request(
    *, national_id_value: str, name: str, uid: str, eduinfo: dict, asker: str, site: str
) -> None:
    """Proof by national ID and name: queue the check and the mail for the worker, whatever was
    typed, so the answer page takes the same time either way (issue 16 point 8). The broker gets
    the ID's HMAC digest, never the ID."""
    from teachers.tasks import send_sso_binding_mail  # teachers.tasks imports this module

    # Every listed look-up key's digest (a re-keying may be under way).
    digests = national_id.digests(national_id_value)
    transaction.on_commit(lambda: send_sso_binding_mail.delay(digests, name, uid, eduinfo, asker, site))


def binding_token(*, person: Person, uid: str, eduinfo: dict, asker: str) -> str:
    return signing.dumps(
        {"person": person.pk, "uid": uid, "eduinfo": eduinfo, "asker": asker}, salt=BIND_SALT
    )


def asking_school(eduinfo: dict) -> Unit | None:
    """The school the SSO account says it serves at (eduinfo), if the portal knows it."""
    code = str((eduinfo or {}).get("schoolid") or "").strip()
    return Unit.objects.filter(code=code).first() if code else None


def sso_binding_mail_send(
    *, id_digest: str | list[str], name: str, uid: str, eduinfo: dict, asker: str, site: str
) -> bool:
    """In the worker: when the ID and name match a person serving now who has a roster address,
    mail that address a link that shows who asked (the SSO account's name and school). True if sent.
    `id_digest`: the ID's digests under every look-up key (one string from tasks queued before)."""
    wanted = [id_digest] if isinstance(id_digest, str) else list(id_digest)
    person = Person.objects.filter(national_id_digest__in=wanted).first()
    if person is None or person.name != name:
        return False
    # Only to the trusted address (teachers.trust), which also means the person serves somewhere.
    address = trust.trusted_address(person)
    if not address or not person.memberships.filter(end_date__isnull=True).exists():
        return False
    token = binding_token(person=person, uid=uid, eduinfo=eduinfo, asker=asker)
    school = asking_school(eduinfo)
    body = render_to_string(
        "teachers/email/sso_bind.txt",
        {
            "person": person,
            "asker": asker or _("（未提供姓名）"),
            "school": school.name if school else (eduinfo or {}).get("schoolid") or _("（未提供學校）"),
            "link": site.rstrip("/") + reverse("teachers:sso-confirm", args=[token]),
        },
    )
    send_mail(str(_("【全國教師在職進修資訊網】確認綁定帳號漫遊")), body, None, [address])
    return True


def binding_from_token(token: str) -> dict:
    """What a binding link would bind, for the confirmation page; nothing changes."""
    try:
        data = signing.loads(token, salt=BIND_SALT, max_age=BIND_MAX_AGE)
    except signing.BadSignature as exc:
        raise services.RosterError(MSG_BAD_LINK, code="link_invalid", kind=Kind.INVALID) from exc
    person = Person.objects.filter(pk=data.get("person")).first()
    if person is None:
        raise services.RosterError(MSG_BAD_LINK, code="link_invalid", kind=Kind.INVALID)
    if SocialAccount.objects.filter(provider=PROVIDER, uid=data.get("uid")).exists():
        raise services.RosterError(
            _("此教育體系單一簽入帳號已綁定，這個連結已用過。"), code="link_used", kind=Kind.INVALID
        )
    school = asking_school(data.get("eduinfo") or {})
    return {"person": person, "asker": data.get("asker") or "", "school": school}


@transaction.atomic
def sso_binding_confirm(*, token: str) -> User:
    """The e-mailed link: the person's teacher account (created, 啟用中, if none) gets the `sub`."""
    try:
        data = signing.loads(token, salt=BIND_SALT, max_age=BIND_MAX_AGE)
    except signing.BadSignature as exc:
        raise services.RosterError(MSG_BAD_LINK, code="link_invalid", kind=Kind.INVALID) from exc
    person = Person.objects.select_for_update().filter(pk=data.get("person")).first()
    if person is None:
        raise services.RosterError(MSG_BAD_LINK, code="link_invalid", kind=Kind.INVALID)
    account = TeacherAccount.objects.select_related("user").filter(person=person).first()
    if account is not None and account.status != AccountStatus.ACTIVE:
        raise services.RosterError(services.MSG_NOT_ACTIVE, code="not_active")
    # The link was sent to the trusted address; one that is no longer trusted grants nothing.
    address = trust.trusted_address(person)
    if not address:  # the address stopped being trusted after the link went out
        raise services.RosterError(MSG_BAD_LINK, code="address_untrusted")
    trust.confirm(person, address)
    if account is None:
        user = User.objects.create(
            username=f"moe-{get_random_string(12).lower()}", email=address, person=person, is_active=True
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if not EmailAddress.objects.filter(email__iexact=address).exists():
            EmailAddress.objects.create(user=user, email=address, primary=True, verified=True)
        account = TeacherAccount.objects.create(
            person=person, user=user, status=AccountStatus.ACTIVE, enabled_at=timezone.now()
        )
    _bind(account.user, data["uid"], data.get("eduinfo") or {})
    return account.user
