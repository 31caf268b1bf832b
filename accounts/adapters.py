import math

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.core.internal.ratelimit import parse_rates
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


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
        from accounts.security_log import user_for_login

        login = credentials.get("email", credentials.get("username", ""))
        user = user_for_login(login)
        return f"user:{user.pk}" if user is not None else f"login:{str(login).lower()}"

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from accounts.security_log import locked_out

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

    def validation_error(self, code, *args) -> ValidationError:
        if code == "too_many_login_attempts":
            # The wait follows the rate-limit setting rather than a fixed sentence.
            return ValidationError(lockout_message(), code=code)
        return super().validation_error(code, *args)
