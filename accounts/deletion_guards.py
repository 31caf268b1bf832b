"""Work that must be finished before a business account may be deleted (SPEC §3.2 rule 5).

The work lives in apps to the right of accounts (courses), which accounts must not import. Those
apps register a guard on `GUARDS` from their AppConfig.ready(); each guard returns a description of
every unfinished item of the account, and deletion is refused while any guard returns one.
"""

from core.hooks import Hook

# (business account) -> descriptions of its unfinished work
GUARDS = Hook("accounts.deletion_guards", many=True)


def unfinished_work(account) -> list[str]:
    return [item for guard in GUARDS.values() for item in guard(account)]
