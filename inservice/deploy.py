"""What the production entry point refuses (issue 16 point 9).

The settings default to the demo (DJANGO_DEBUG=1 and keys written in this repository), so that
`make demo` and `manage.py runserver` work with no set-up. A server deployed without its
environment would then serve in debug mode with public keys: the WSGI entry point (inservice.wsgi,
what gunicorn and the image run) refuses to start with DEBUG on or with any of the demo keys, and
`check --deploy` reports the demo keys as errors. The development server does not load
inservice.wsgi (settings.WSGI_APPLICATION is None: Django's own handler).
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# The demo's keys (inservice.settings falls back to them only with DJANGO_DEBUG=1).
DEMO_SECRET_KEY = "django-insecure-demo-only-key-never-use-in-production-0123456789"
DEMO_NATIONAL_ID_HMAC_KEY = "demo-national-id-hmac-key"
DEMO_NATIONAL_ID_FERNET_KEY = "ZGVtby1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZXk="

MSG_DEBUG = (
    "DJANGO_DEBUG=1: the production entry point (inservice.wsgi, gunicorn) does not serve in debug "
    'mode. Set DJANGO_DEBUG=0 and the production secrets (README "Production"); for development '
    "use `make demo` or `manage.py runserver`."
)
MSG_DEMO_KEY = '{name} is the repository\'s demo key, which is public: set your own (README "Production").'


def demo_keys_in_use() -> list[str]:
    """The names of the settings that still hold a demo key."""
    in_use = []
    if settings.SECRET_KEY == DEMO_SECRET_KEY or settings.SECRET_KEY.startswith("django-insecure"):
        in_use.append("DJANGO_SECRET_KEY")
    if settings.NATIONAL_ID_HMAC_KEY == DEMO_NATIONAL_ID_HMAC_KEY:
        in_use.append("NATIONAL_ID_HMAC_KEY")
    if settings.NATIONAL_ID_FERNET_KEY == DEMO_NATIONAL_ID_FERNET_KEY:
        in_use.append("NATIONAL_ID_FERNET_KEY")
    return in_use


def unsafe_start_problems() -> list[str]:
    problems = [MSG_DEBUG] if settings.DEBUG else []
    problems += [MSG_DEMO_KEY.format(name=name) for name in demo_keys_in_use()]
    return problems


def refuse_unsafe_start() -> None:
    """Called by the WSGI entry point before it serves anyone."""
    if problems := unsafe_start_problems():
        raise ImproperlyConfigured("The web process refuses to start: " + " ".join(problems))


@register(Tags.security, deploy=True)
def check_demo_keys(app_configs=None, **kwargs):
    return [Error(MSG_DEMO_KEY.format(name=name), id="inservice.E001") for name in demo_keys_in_use()]
