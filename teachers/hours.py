"""Issued hours per person in a date range, for the roster's 依教育部統合視導 filter.

Issued hours live in `courses`, a layer above `teachers`, which teachers must not import. Like
`accounts.deletion_guards`, this module holds a registry: `courses` registers its implementation
from `CoursesConfig.ready()`. The hook returns a SQL expression (a correlated subquery) rather than
figures, so the roster page filters thousands of people in the database in one query.
"""

import datetime as dt
from collections.abc import Callable

from django.db.models import DecimalField, Expression, Value

# (the outer row's field holding a person id, first day, last day) -> expression of their hours
HoursExpression = Callable[[str, dt.date, dt.date], Expression]
_provider: list[HoursExpression] = []


def register(provider: HoursExpression) -> HoursExpression:
    _provider[:] = [provider]
    return provider


def hours_between(person_field: str, start: dt.date, end: dt.date) -> Expression:
    """Hours issued to the outer row's person from start to end, both included; 0 without a provider."""
    if not _provider:
        return Value(0, output_field=DecimalField(max_digits=8, decimal_places=1))
    return _provider[0](person_field, start, end)
