from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError


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
