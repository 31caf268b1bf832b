import html
import math

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.core.internal.ratelimit import parse_rates
from django.core.exceptions import ValidationError
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from accounts.security_log import locked_out, user_for_login


def lockout_minutes() -> int:
    """How long a locked-out sign-in waits: the longest window of the failed-login rate limits."""
    rates = parse_rates(account_settings.RATE_LIMITS.get("login_failed"))
    return max((math.ceil(rate.duration / 60) for rate in rates), default=5)


def lockout_message() -> str:
    """What a locked-out person reads: what happened, how long to wait, what else to do."""
    return _(
        "登入失敗次數過多，已暫時停止登入。請於 %(minutes)d 分鐘後再試。忘記密碼可在登入頁使用「忘記密碼」重設；"
        "無法取得驗證碼時，可改輸入一組復原碼，或洽負責啟用您帳號的管理者。"
    ) % {"minutes": lockout_minutes()}


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts are tied to a roster entry: teachers apply with their national ID, business
        # accounts apply at a unit. A free-standing sign-up would create an account of nobody.
        return False

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """One failed-sign-in counter per account (issue 9 point 5), whichever of its username or
        e-mail was typed; a name that is no account counts on its own (lower-cased) string."""
        login = credentials.get("email", credentials.get("username", ""))
        # Asked for twice per sign-in (the limit before the password, its rollback after): one look-up.
        memo = getattr(request, "_login_attempts_keys", None)
        if memo is None:
            memo = {}
            if request is not None:
                request._login_attempts_keys = memo
        if login not in memo:
            user = user_for_login(login)
            memo[login] = f"user:{user.pk}" if user is not None else f"login:{str(login).lower()}"
        return memo[login]

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            locked_out(request, credentials)
            raise

    def post_login(self, request, user, **kwargs):
        # A sign-in that has just been completed (password, and the code where one is enrolled)
        # counts as the re-authentication SPEC §9 asks for before changing e-mail, password or the
        # second factor, for allauth's ACCOUNT_REAUTHENTICATION_TIMEOUT; otherwise a new business
        # account is asked for its password again on the very next page (setting up TOTP).
        records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
        if records:
            request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [
                {**record, "reauthenticated": True} for record in records
            ]
        return super().post_login(request, user, **kwargs)

    def add_message(
        self, request, level, message_template=None, message_context=None, extra_tags="", message=None
    ):
        # allauth renders its one-line message templates with the request, so every context
        # processor runs for them: the navigation's menu took four queries and about a tenth of a
        # sign-in's server CPU (issue 22 point 5). The texts use only their own context.
        if message is None and message_template:
            try:
                message = html.unescape(render_to_string(message_template, message_context or {}).strip())
            except TemplateDoesNotExist:
                return
            if not message:
                return
        super().add_message(request, level, extra_tags=extra_tags, message=message)

    def validation_error(self, code, *args) -> ValidationError:
        if code == "too_many_login_attempts":
            # The wait follows the rate-limit setting rather than a fixed sentence.
            return ValidationError(lockout_message(), code=code)
        return super().validation_error(code, *args)
