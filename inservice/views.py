from django.shortcuts import render

from accounts.permissions import Perm, has_perm, requires
from inservice.navigation import MenuEntry


def home(request):
    context = {}
    if has_perm(request.user, Perm.OPERATOR_ADMIN):
        from teachers.feeds import failed_latest_runs

        context["failed_feed_runs"] = failed_latest_runs()
    return render(request, "inservice/home.html", context)


def placeholder(entry: MenuEntry):
    """The view of a menu entry whose page arrives with a later capability, guarded as the real page
    will be: by the same `requires` decorator, so the menu and its 403s are tested from day one."""

    def view(request):
        return render(request, "inservice/placeholder.html", {"entry": entry})

    view.__name__ = f"placeholder_{entry.key.replace('-', '_')}"
    return view if entry.perm is None else requires(entry.perm)(view)
