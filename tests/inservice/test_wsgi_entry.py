"""The production entry point refuses debug mode and the repository's demo keys (issue 16 point 9);
the development server and `make demo` keep working with nothing set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inservice import deploy

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

# Every test here starts the portal as a process of its own: the service journeys (make test).
pytestmark = pytest.mark.live

OWN_KEYS = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x9!prod-secret-for-the-entry-test-" + "k" * 40,
    "DJANGO_ALLOWED_HOSTS": "inservice.example.tw",
    "NATIONAL_ID_HMAC_KEY": "prod-hmac",
    "NATIONAL_ID_FERNET_KEY": "dGVzdC1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZSE=",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # not connected: the entry point only reads the setting
}


def run(args, **env):
    """A fresh process with nothing of this environment's Django or service settings."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "NATIONAL_ID_")) and k not in ("REDIS_URL", "DATABASE_URL")
    }
    clean.update(env)
    return subprocess.run(args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def import_wsgi(**env):
    return run([sys.executable, "-c", "import inservice.wsgi"], **env)


def test_the_wsgi_module_refuses_to_start_with_nothing_set():
    result = import_wsgi()  # DJANGO_DEBUG defaults to 1 with the demo keys
    assert result.returncode != 0
    assert "refuses to start" in result.stderr and "DJANGO_DEBUG=1" in result.stderr


def test_the_wsgi_module_refuses_debug_even_with_its_own_keys():
    result = import_wsgi(**{**OWN_KEYS, "DJANGO_DEBUG": "1"})
    assert result.returncode != 0 and "DJANGO_DEBUG=1" in result.stderr


@pytest.mark.parametrize(
    "name, demo",
    [
        ("DJANGO_SECRET_KEY", deploy.DEMO_SECRET_KEY),
        ("NATIONAL_ID_HMAC_KEY", deploy.DEMO_NATIONAL_ID_HMAC_KEY),
        ("NATIONAL_ID_FERNET_KEY", deploy.DEMO_NATIONAL_ID_FERNET_KEY),
    ],
)
def test_the_wsgi_module_refuses_each_demo_key_in_production(name, demo):
    result = import_wsgi(**{**OWN_KEYS, name: demo})
    assert result.returncode != 0
    assert f"{name} is the repository's demo key" in result.stderr
    # The key itself is not repeated in the message.
    assert demo not in result.stderr.split("ImproperlyConfigured")[-1]


def test_the_wsgi_module_starts_with_production_settings():
    result = import_wsgi(**OWN_KEYS)
    assert result.returncode == 0, result.stderr


def test_gunicorn_as_the_image_runs_it_refuses_the_demo_settings():
    refused = run([GUNICORN, "--check-config", "inservice.wsgi:application"])
    assert refused.returncode != 0 and "DJANGO_DEBUG=1" in refused.stdout + refused.stderr
    started = run([GUNICORN, "--check-config", "inservice.wsgi:application"], **OWN_KEYS)
    assert started.returncode == 0, started.stdout + started.stderr


def test_the_development_server_loads_without_any_set_up():
    # What runserver does to get its application (settings.WSGI_APPLICATION).
    code = (
        "import django; django.setup(); "
        "from django.core.servers.basehttp import get_internal_wsgi_application; "
        "get_internal_wsgi_application()"
    )
    result = run([sys.executable, "-c", code], DJANGO_SETTINGS_MODULE="inservice.settings")
    assert result.returncode == 0, result.stderr
    assert run([sys.executable, "manage.py", "check"]).returncode == 0


def test_check_deploy_reports_the_demo_keys():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy"],
        **{**OWN_KEYS, "NATIONAL_ID_FERNET_KEY": deploy.DEMO_NATIONAL_ID_FERNET_KEY},
    )
    assert result.returncode != 0 and "inservice.E001" in result.stderr
