"""The compose health checks of the web and beat services: `python -m inservice.healthcheck web|beat`.

No Django import (a check runs every 30 s): web asks gunicorn for /healthz (the database, Redis
and the media root, inservice.views.healthz) with a Host it serves and the proxy's HTTPS header;
beat is healthy while its schedule file, synced by beat every few minutes, is fresh. The worker's
check is `celery inspect ping` (docker-compose.yml).
"""

import glob
import os
import sys
import time
import urllib.request
from pathlib import Path

BEAT_STALE_SECONDS = 15 * 60


def _host() -> str:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def web() -> bool:
    url = os.environ.get("INSERVICE_HEALTHCHECK_URL", "http://127.0.0.1:8000/healthz")
    request = urllib.request.Request(url, headers={"Host": _host(), "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def beat() -> bool:
    state = Path(
        os.environ.get("INSERVICE_STATE_DIR") or Path(__file__).resolve().parent.parent / "var/state"
    )
    # shelve's dbm may add a suffix (.db, .dat/.dir): any file of the schedule counts.
    files = glob.glob(str(state / "celerybeat-schedule*"))
    return bool(files) and time.time() - max(os.path.getmtime(f) for f in files) < BEAT_STALE_SECONDS


if __name__ == "__main__":
    checks = {"web": web, "beat": beat}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit("usage: python -m inservice.healthcheck web|beat")
    sys.exit(0 if checks[sys.argv[1]]() else 1)
