"""What a cell holds: a spreadsheet value as CSV text, and the guard against formulas."""

from __future__ import annotations

import datetime as dt
import re

# A CSV cell a spreadsheet would run as a formula starts with one of these; TableWriter writes
# such a cell with a leading apostrophe (and one more before a cell that already looks escaped),
# and Table.unescape takes exactly one away again, so an exported file imports back unchanged.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
FORMULA_RE = re.compile(r"^'*[=+\-@\t\r]")
FORMULA_ESCAPED_RE = re.compile(r"^'+[=+\-@\t\r]")


def escape_formula(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: '=1+2 rather than the formula's result."""
    return "'" + value if FORMULA_RE.match(value) else value


def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
