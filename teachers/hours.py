"""Issued hours per person in a date range, for the roster's 依教育部統合視導 filter.

Issued hours live in `courses`, a layer above `teachers`, which teachers must not import, so this
is a required hook (`core.hooks`): `courses` registers `courses.selectors.issued_hours_between`
from `CoursesConfig.ready()`, and without it the filter fails loudly instead of answering 0 hours.
The hook returns a SQL expression (a correlated subquery) rather than figures, so the roster page
filters thousands of people in the database in one query.
"""

import datetime as dt

from django.db.models import Expression

from core.hooks import Hook

# (the outer row's field holding a person id, first day, last day) -> expression of their hours
HOURS = Hook("teachers.hours", required=True)


def hours_between(person_field: str, start: dt.date, end: dt.date) -> Expression:
    """Hours issued to the outer row's person from start to end, both included."""
    return HOURS.one()(person_field, start, end)
