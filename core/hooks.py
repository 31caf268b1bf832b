"""Hooks: where a lower app needs what only a higher app knows (the layers forbid the import).

The lower app declares a `Hook` and calls it; the higher app implements it in its services or
selectors and registers the implementation, by reference, from its `AppConfig.ready()`. A hook is
`one` (a single implementation) or `many` (any number, each under a key), and `required` when the
caller cannot do without it: asking a required hook that nobody registered fails loudly
(`HookMissing`) instead of answering as if nothing were there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class HookMissing(ImproperlyConfigured):
    """A required hook was asked before any app registered an implementation."""


def _default_key(impl: Any) -> str:
    return f"{getattr(impl, '__module__', '')}.{getattr(impl, '__qualname__', repr(impl))}"


class Hook:
    """One extension point. `many=False`: one implementation; `many=True`: one per key."""

    def __init__(self, name: str, *, many: bool = False, required: bool = False):
        self.name = name
        self.many = many
        self.required = required
        self._impls: dict[str, Any] = {}

    def register(self, impl: Any, *, key: str | None = None) -> Any:
        """Register `impl` (under `key` for a many-hook; the function's dotted name by default).

        Registering the same implementation again is harmless; a second, different implementation
        of a one-hook is a configuration error."""
        if not self.many:
            current = self._impls.get("")
            if current is not None and current is not impl:
                raise ImproperlyConfigured(f"hook {self.name}: {_default_key(current)} is already registered")
            self._impls[""] = impl
        else:
            self._impls[key or _default_key(impl)] = impl
        return impl

    def _check(self) -> None:
        if self.required and not self._impls:
            raise HookMissing(f"hook {self.name} is required and no app registered an implementation")

    def one(self) -> Any:
        """The implementation of a one-hook; None when optional and unregistered."""
        assert not self.many, self.name
        self._check()
        return self._impls.get("")

    def items(self) -> dict[str, Any]:
        """Every implementation of a many-hook by key, in registration order."""
        assert self.many, self.name
        self._check()
        return dict(self._impls)

    def values(self) -> list[Any]:
        return list(self.items().values())

    def __call__(self, *args, **kwargs):
        """Call a one-hook's implementation."""
        impl = self.one()
        if impl is None:
            return None
        return impl(*args, **kwargs)


Implementation = Callable[..., Any]
