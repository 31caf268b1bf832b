"""Issued hours of a person in an academic year, for the roster's 依教育部統合視導 filter.

Issued hours live in `courses`, a layer above `teachers`, which teachers must not import, so this
is a required hook (`core.hooks`): `courses` registers `courses.selectors.issued_hours_in_year`
from `CoursesConfig.ready()`, and without it the filter fails loudly instead of answering 0 hours.
The hook returns a SQL expression (a correlated subquery) rather than figures, so the roster page
filters thousands of people in the database in one query.
"""

from django.db.models import Expression

from core.hooks import Hook

# (the outer row's field holding a person id, academic year) -> expression of their hours that year
HOURS = Hook("teachers.hours", required=True)


def hours_in_year(person_field: str, year: int) -> Expression:
    """Hours issued to the outer row's person in academic year `year` (IssuedHours.objects.in_year)."""
    return HOURS.one()(person_field, year)
