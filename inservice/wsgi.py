import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
application = get_wsgi_application()

# The web process serves nobody with per-process sign-in rate limits in production (accounts.checks).
from accounts.checks import require_shared_cache  # noqa: E402

require_shared_cache()
