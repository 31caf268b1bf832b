"""Checks shared by the web forms and the importers: one rule, one wording, wherever text comes in.

The convention for "a value or what is wrong with it": a check returns the cleaned value, or a
`Problem` holding the user-facing zh-Hant message. A row of an import is checked field by field
and its problems are the `Problem`s among the results (`problems()`); a form field wraps the same
check in a Django validator (`TextValidator`), so a form and a file refuse the same text with the
same words.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _


class Problem:
    """What a check returns instead of a value: the message saying what is wrong."""

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = str(message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Problem({self.message!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Problem) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)


def is_problem(value) -> bool:
    return value.__class__ is Problem


def problems(*results) -> list[Problem]:
    """The problems among the results of a row's checks, in column order."""
    return [r for r in results if r.__class__ is Problem]


MSG_REQUIRED = _("{column} 不可空白")
MSG_TOO_LONG = _("{column} 超過 {limit} 字")
MSG_CONTROL_CHARACTERS = _("{column} 含有控制字元（如換行、NUL），請刪除")
MSG_BIDI_CONTROLS = _("{column} 含有改變文字方向的隱藏字元，請刪除")
MSG_INVISIBLE_ONLY = _("{column} 只有看不見的字元（如零寬空白），請填寫內容")
MSG_USERNAME = _("使用者帳號只能使用英文字母、數字及 . _ -")

# No one-line value holds these: C0 and C1 controls (PostgreSQL cannot store NUL at all) ...
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# ... nor the embeddings, overrides and isolates that reorder what a reader sees (Trojan Source).
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing: whitespace, zero-width and format characters, fillers.
INVISIBLE = (
    " \u00a0\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202f\u205f\u2060\u2061"
    "\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\u2800\u3000\u3164\ufeff\uffa0"
)
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")


def check_text(value: str, column, limit: int | None = None, *, required: bool = True) -> str | Problem:
    """A stripped one-line text value, or the problem with it.

    `limit` is the column's length in the database: a longer value is refused here instead of
    failing at the database (a 500 in a form, a refused import with no line number). Text that
    shows nothing (zero-width spaces, fillers) counts as blank.
    """
    if not value:
        return Problem(MSG_REQUIRED.format(column=column)) if required else value
    if UNSAFE_RE.search(value):
        if CONTROL_RE.search(value):
            return Problem(MSG_CONTROL_CHARACTERS.format(column=column))
        return Problem(MSG_BIDI_CONTROLS.format(column=column))
    if value[0] in INVISIBLE and not value.strip(INVISIBLE):
        return Problem((MSG_REQUIRED if required else MSG_INVISIBLE_ONLY).format(column=column))
    if limit is not None and len(value) > limit:
        return Problem(MSG_TOO_LONG.format(column=column, limit=limit))
    return value


def check_username(value: str) -> str | Problem:
    return value if USERNAME_RE.match(value) else Problem(MSG_USERNAME)


@deconstructible
class TextValidator:
    """`check_text` as a Django validator for a form field (the field does the stripping)."""

    def __init__(self, column, limit: int | None = None):
        self.column, self.limit = column, limit

    def __call__(self, value) -> None:
        result = check_text(value, self.column, self.limit, required=False)
        if result.__class__ is Problem:
            raise ValidationError(result.message, code="text")

    def __eq__(self, other) -> bool:
        return isinstance(other, TextValidator) and (other.column, other.limit) == (self.column, self.limit)


def validate_username(value: str) -> None:
    """Usernames in ASCII letters, digits and . _ - (no look-alike letters, no @ or +)."""
    result = check_username(value)
    if result.__class__ is Problem:
        raise ValidationError(result.message, code="username")
