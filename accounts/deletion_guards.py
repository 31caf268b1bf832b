"""Work that must be finished before a business account may be deleted (SPEC §3.2 rule 5).

The work lives in apps to the right of accounts (courses), which accounts must not import. Those
apps register a guard here from their AppConfig.ready(); each guard returns a description of every
unfinished item of the account, and deletion is refused while any guard returns one.
"""

from collections.abc import Callable

Guard = Callable[[object], list[str]]
_guards: list[Guard] = []


def register(guard: Guard) -> Guard:
    if guard not in _guards:
        _guards.append(guard)
    return guard


def unfinished_work(account) -> list[str]:
    return [item for guard in _guards for item in guard(account)]
