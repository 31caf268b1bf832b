"""Deploy checks of the sign-in defences (issue 9 point 5).

allauth counts failed sign-ins in the cache. A per-process cache (locmem) gives every gunicorn
worker its own counters, so most guesses get through; production needs a shared cache (Redis).
`check --deploy` reports its absence as an error, and the web process refuses to start without
it (inservice.wsgi), while build steps such as collectstatic, which serve nobody, still run.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Caches that every process of the site shares.
SHARED_CACHE_BACKENDS = (
    "core.cache.RedisCache",  # the portal's (Django's, reusing its Redis clients)
    "django.core.cache.backends.redis.RedisCache",
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django.core.cache.backends.db.DatabaseCache",
)
MSG_NO_SHARED_CACHE = (
    "The default cache ({backend}) is not shared between processes, so the sign-in rate limits "
    "count per process: set REDIS_URL."
)


def shared_cache_problem() -> str | None:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in SHARED_CACHE_BACKENDS:
        return None
    return MSG_NO_SHARED_CACHE.format(backend=backend or "none")


@register(Tags.security, Tags.caches, deploy=True)
def check_shared_cache(app_configs=None, **kwargs):
    problem = shared_cache_problem()
    return [Error(problem, id="accounts.E001")] if problem else []


def require_shared_cache() -> None:
    """Called by the web process at start: production does not serve with per-process rate limits."""
    if not settings.DEBUG and (problem := shared_cache_problem()):
        raise ImproperlyConfigured(problem)
