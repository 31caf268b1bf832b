"""One refusal type for every app's rules, and one way to answer it over HTTP.

A service that refuses an action raises `Refused` (or an app's subclass of it): `code` says which
rule refused (stable: views and tests branch on it, never on the wording), `message` is what the
user reads (zh-Hant, marked for translation), `details` lists the particulars (the unfinished
courses, the clashing rows). `kind` decides the HTTP answer, the same in every app:

- NOT_VISIBLE → 404: the object is outside what the actor may see (no existence leak);
- FORBIDDEN → 403: the actor sees it but may not do this;
- CONFLICT → 409: the action does not fit the object's state now (wrong state, a closed window,
  a rule of the data such as the last 總負責人);
- INVALID → 400: input that passed the form but not the service's own check of it.

Invalid form input is not a refusal: the form re-renders with its field errors, as ever.
"""

from __future__ import annotations

from enum import IntEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render


class Kind(IntEnum):
    """What kind of refusal, as the HTTP status it answers."""

    NOT_VISIBLE = 404
    FORBIDDEN = 403
    CONFLICT = 409
    INVALID = 400


class Refused(Exception):
    """A rule refused the action: `code` which rule, `message` what the user reads, `details` which items."""

    def __init__(
        self, message, *, code: str = "", kind: Kind = Kind.CONFLICT, details: list[str] | None = None
    ):
        super().__init__(str(message))
        self.message = message
        self.kind = Kind(kind)
        self.code = str(code) or self.kind.name.lower()
        self.details = list(details or [])

    @property
    def status(self) -> int:
        return int(self.kind)

    @property
    def forbidden(self) -> bool:
        return self.kind == Kind.FORBIDDEN

    def as_json(self) -> dict:
        return {"code": self.code, "message": str(self.message), "details": [str(d) for d in self.details]}


def refused_response(request, error: Refused, template: str, context: dict, *, json: bool = False):
    """The one HTTP answer to a refusal: 404 for an object the actor may not see; otherwise the page
    again with the message and its details (or, for a JSON endpoint, the refusal as JSON), answered
    403 when forbidden and 409 when the object's state does not allow it."""
    if error.kind == Kind.NOT_VISIBLE:
        raise Http404
    if json:
        return refused_json(error)
    context.update({"error": error.message, "error_details": error.details, "error_code": error.code})
    return render(request, template, context, status=error.status)


def raise_denial(error: Refused) -> None:
    """For a view that answers a refusal with a message of its own (a form error, a redirect with a
    message) rather than the page again: a refusal of who the actor is still answers 404 (not
    visible) or 403 (forbidden) as everywhere; any other refusal returns to the caller."""
    if error.kind == Kind.NOT_VISIBLE:
        raise Http404
    if error.kind == Kind.FORBIDDEN:
        raise PermissionDenied


def refused_json(error: Refused, **extra) -> JsonResponse:
    """A refusal answered by a JSON endpoint: the same code, message and status as the page."""
    return JsonResponse({**extra, **error.as_json()}, status=error.status)
