"""The reward rules' refusal: core.refusals.Refused with the rule's code (a module of its own, so the
selectors that refuse an actor outside every list and the services share it)."""

from core.refusals import Kind, Refused


class RewardError(Refused):
    """core.refusals.Refused of the reward job's and lists' rules: every raise names its rule (`code`);
    the kind is CONFLICT (409) unless it says otherwise."""

    def __init__(self, message, *, code: str, kind: Kind = Kind.CONFLICT):
        super().__init__(message, code=code, kind=kind)
