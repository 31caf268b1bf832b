"""The production entry point (gunicorn, the image). The development server does not use it
(settings.WSGI_APPLICATION is None), so the refusals below never get in the way of `make demo`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
application = get_wsgi_application()

# Not in debug mode, not with the repository's demo keys (inservice.deploy), and not with
# per-process sign-in rate limits (accounts.checks).
from accounts.checks import require_shared_cache  # noqa: E402
from inservice.deploy import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
require_shared_cache()
