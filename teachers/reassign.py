"""Person reassigners: what higher layers hold of a person, moved when two person records merge.

Issued hours (`courses`) and teacher plans (`planning`) refer to a person but live in layers above
`teachers`, which must not import them. Like `teachers.hours` and `accounts.deletion_guards`, this
module holds a registry: each higher app registers, from its `AppConfig.ready()`, a function
`(source, target) -> int` that moves its rows from the duplicate `source` to the kept `target`
inside the merge's transaction and returns how many it moved, or raises `RosterError` (a
zh-Hant message) when the move would break one of its own rules (the whole merge is then undone).
"""

from collections.abc import Callable

Reassigner = Callable[[object, object], int]
_registry: dict[str, Reassigner] = {}


def register(label: str, reassigner: Reassigner) -> Reassigner:
    """`label`: what the rows are, in zh-Hant (研習時數, 教師自我進修規劃), for the audit record."""
    _registry[label] = reassigner
    return reassigner


def reassigners() -> dict[str, Reassigner]:
    return dict(_registry)
