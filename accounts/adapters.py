from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts are tied to a roster entry: teachers apply with their national ID, business
        # accounts apply at a unit. A free-standing sign-up would create an account of nobody.
        return False
