"""The server's clock for every window decision; tests move it, nothing else does."""

from django.utils import timezone


def now():
    return timezone.now()
