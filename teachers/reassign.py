"""Person reassigners: what higher layers hold of a person, moved when two person records merge.

Issued hours, enrolments, corrections, certificates and feed records (`courses`), plans and
snapshot rows (`planning`), reward results (`rewards`) refer to a person but live in layers above
`teachers`, which must not import them. Each higher app registers on `REASSIGNERS`, from its
`AppConfig.ready()` and keyed by the model's label ("courses.Enrolment"), a function
`(source, target) -> int` from its services that moves its rows from the duplicate `source` to the
kept `target` inside the merge's transaction and returns how many it moved, or raises `RosterError`
naming the clash when a unique constraint makes the move impossible (the whole merge is undone).
`teachers.people.people_merge` refuses to run while any relation to Person has no mover.
"""

from collections.abc import Callable

from django.db.models import Exists, OuterRef, QuerySet, UniqueConstraint

from core.hooks import Hook
from teachers.services import RosterError

REASSIGNERS = Hook("teachers.reassign", many=True)


def move_rows(model, source, target, *, clash: str, describe: Callable[[QuerySet], str]) -> int:
    """Move `model`'s rows of `source` to `target`, unless a unique constraint on the person would
    break: then refuse with `clash`, its `{which}` filled by `describe(the clashing rows of source)`."""
    rows = model.objects.filter(person=source)
    for constraint in model._meta.constraints:
        if not isinstance(constraint, UniqueConstraint) or "person" not in constraint.fields:
            continue
        others = [field for field in constraint.fields if field != "person"]
        mine, theirs = rows, model.objects.filter(person=target)
        if constraint.condition is not None:
            mine, theirs = mine.filter(constraint.condition), theirs.filter(constraint.condition)
        clashing = mine.filter(Exists(theirs.filter(**{field: OuterRef(field) for field in others})))
        if clashing.exists():
            raise RosterError(str(clash).format(which=describe(clashing)), code="merge_clash")
    return rows.update(person=target)
