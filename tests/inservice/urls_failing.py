"""The site's URLconf (and whatever error handlers it names) plus one view that fails."""

from django.urls import path

from inservice.urls import *  # noqa: F403
from inservice.urls import urlpatterns as site_urlpatterns


def fails(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("fails/", fails), *site_urlpatterns]
