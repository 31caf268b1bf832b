from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from accounts import permissions
from inservice.navigation import MENU_BY_KEY


def home(request):
    from planning import selectors as planning

    context = {
        "my_windows": planning.home_windows(request.user),
        "open_windows": planning.open_window_announcements(),
        "announcements": planning.announcements_for(request.user, limit=5),
    }
    return render(request, "inservice/home.html", context)


def placeholder(request, key: str):
    """A menu entry whose page arrives with a later capability; guarded like the real page will be."""
    entry = MENU_BY_KEY.get(key)
    if entry is None:
        raise Http404
    if entry.perm is not None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        permissions.require(request.user, entry.perm)
    return render(request, "inservice/placeholder.html", {"entry": entry})


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
