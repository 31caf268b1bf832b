"""The trusted address (issue 16 point 2; docs/architecture.md, "The trusted address").

A person's roster e-mail (`Person.email`) is trusted only when it came from the unit the person
serves at now (that unit's roster import, its own forms, its nightly feed) or when the person
confirmed it (by following a link sent to it). The e-mails that grant an account — the teacher
activation link, the SSO binding link — go only to the trusted address, so a unit that writes an
address for someone it does not serve gains nothing.

`Person.email_unit` records which unit wrote the address, `Person.email_confirmed` whether the
person confirmed it. Every writer of `Person.email` goes through `person_email_set` (the roster import
writes the same two columns in SQL), and only for a person the acting unit serves now, or a new
person it registers (`may_write_email`).
"""

from __future__ import annotations

from accounts.models import Person, Unit
from teachers.models import Membership


def serving_unit_id(person: Person) -> int | None:
    """The unit of the person's current membership, or None."""
    if person.pk is None:
        return None
    return (
        Membership.objects.filter(person=person, end_date__isnull=True)
        .values_list("unit_id", flat=True)
        .first()
    )


_UNKNOWN = object()


def trusted_address(person: Person, *, serving=_UNKNOWN) -> str:
    """The person's roster e-mail when it is trusted, else "". `serving`: the id of the unit the
    person serves at now, when the caller knows it already (a roster row), saving a query."""
    if not person.email:
        return ""
    if person.email_confirmed:
        return person.email
    if serving is _UNKNOWN:
        serving = serving_unit_id(person)
    if person.email_unit_id is not None and person.email_unit_id == serving:
        return person.email
    return ""


def is_trusted(person: Person, email: str, *, serving=_UNKNOWN) -> bool:
    """Is `email` (as typed in an application, say) the person's trusted address?"""
    trusted = trusted_address(person, serving=serving)
    return bool(trusted) and bool(email) and trusted.lower() == email.strip().lower()


def may_write_email(person: Person, unit: Unit | None) -> bool:
    """A unit writes the e-mail only of a person it serves now, or of a new person it registers.
    `unit=None` is the operator (the national import, the admin)."""
    if unit is None or person.pk is None:
        return True
    return serving_unit_id(person) == unit.pk


def person_email_set(person: Person, email: str, *, unit: Unit | None, save: bool = True) -> bool:
    """Write the roster e-mail as `unit` says it (None: the operator, no unit vouches for it).
    The same address again keeps a confirmation. True if anything changed."""
    email = (email or "").strip()
    unit_id = unit.pk if unit is not None else None
    same = email.lower() == (person.email or "").lower()
    changed = not same or person.email_unit_id != unit_id
    if not changed:
        return False
    person.email = email
    person.email_unit_id = unit_id if email else None
    if not same:
        person.email_confirmed = False
    if save and person.pk is not None:
        person.save(update_fields=["email", "email_unit", "email_confirmed"])
    return True


def confirm(person: Person, email: str) -> None:
    """The person followed a link sent to `email`: if it is still their roster e-mail, it is theirs."""
    if person.email and email and person.email.lower() == email.lower() and not person.email_confirmed:
        person.email_confirmed = True
        person.save(update_fields=["email_confirmed"])
