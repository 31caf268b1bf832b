"""The security audit trail (issue 9 point 4, issue 8 point 3), per-account lock-out and the shared
cache (point 5), and no personal data in caches or dev logs (point 6)."""

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account import signals as account_signals
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import security_log
from accounts.checks import check_shared_cache, require_shared_cache
from accounts.logging import RedactNationalIdFilter
from accounts.models import SecurityEvent, SecurityEventKind
from accounts.tasks import purge_security_log
from tests.conftest import signed_in_client
from tests.factories import PASSWORD, BusinessAccountFactory

Kind = SecurityEventKind
SECRET_ID = "A123456789"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x/0"}}


def events(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("pk"))


def sign_in(client, login, password, addr="127.0.4.1"):
    return client.post(reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=addr)


# Point 4: what is recorded -----------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_ins_and_failed_sign_ins_are_recorded_with_user_address_and_path(client, teacher):
    sign_in(client, teacher.username, "wrong-password")
    sign_in(client, teacher.email, PASSWORD)
    (failed,) = events(Kind.SIGN_IN_FAILED)
    (success,) = events(Kind.SIGN_IN)
    assert (failed.user, failed.ip, failed.path, failed.method) == (
        teacher,
        "127.0.4.1",
        "/accounts/login/",
        "POST",
    )
    assert (success.user, success.username, success.ip) == (teacher, teacher.username, "127.0.4.1")
    stored = str(list(SecurityEvent.objects.values()))
    assert "wrong-password" not in stored and PASSWORD not in stored


@pytest.mark.django_db
def test_a_national_id_typed_as_sign_in_name_is_not_stored(client):
    sign_in(client, SECRET_ID, "whatever-password")
    (failed,) = events(Kind.SIGN_IN_FAILED)
    assert failed.user is None and SECRET_ID not in failed.username and failed.username


@pytest.mark.django_db
def test_a_wrong_totp_code_is_recorded(client, chief):
    sign_in(client, chief.username, PASSWORD)
    client.post(reverse("mfa_authenticate"), {"code": "000000"}, REMOTE_ADDR="127.0.4.1")
    (failed,) = events(Kind.MFA_FAILED)
    assert failed.user == chief and failed.path == reverse("mfa_authenticate")


@pytest.mark.django_db
def test_a_lock_out_is_recorded(client, teacher):
    for _ in range(6):
        sign_in(client, teacher.username, "wrong-password")
    assert len(events(Kind.SIGN_IN_FAILED)) == 5
    (locked,) = events(Kind.LOCKED_OUT)
    assert locked.user == teacher


@pytest.mark.django_db
def test_a_password_change_is_recorded(teacher):
    client = signed_in_client(teacher)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "another-long-secret-9", "password2": "another-long-secret-9"},
    )
    assert response.status_code == 302
    (changed,) = events(Kind.PASSWORD_CHANGED)
    assert changed.user == teacher and "another-long-secret-9" not in str(changed.__dict__)


@pytest.mark.django_db
def test_email_changes_are_recorded(rf, teacher):
    request = rf.post("/accounts/email/", REMOTE_ADDR="127.0.4.9")
    request.user = teacher
    account_signals.email_changed.send(
        sender=type(teacher), request=request, user=teacher, from_email_address=None, to_email_address=None
    )
    (changed,) = events(Kind.EMAIL_CHANGED)
    assert (changed.user, changed.ip) == (teacher, "127.0.4.9")


@pytest.mark.django_db
def test_every_refused_request_on_a_protected_object_is_recorded(teacher, chief, other_school):
    foreign = BusinessAccountFactory(unit=other_school, type="contact")
    assert signed_in_client(teacher).get(reverse("accounts:unit-accounts")).status_code == 403
    assert signed_in_client(chief).get(reverse("accounts:enable", args=[foreign.pk])).status_code == 404
    assert signed_in_client(chief).get("/no-such-page/").status_code == 404  # no view: not a decision
    (forbidden,) = events(Kind.FORBIDDEN)
    (not_found,) = events(Kind.NOT_FOUND)
    assert (forbidden.user, forbidden.path) == (teacher, reverse("accounts:unit-accounts"))
    assert (not_found.user, not_found.path) == (chief, reverse("accounts:enable", args=[foreign.pk]))


@pytest.mark.django_db
def test_the_path_is_kept_without_query_string_or_national_id(rf, chief):
    signed_in_client(chief).get(reverse("accounts:audit-log") + f"?q={SECRET_ID}")
    (forbidden,) = events(Kind.FORBIDDEN)
    assert forbidden.path == reverse("accounts:audit-log")
    request = rf.get(f"/x/{SECRET_ID}/")
    request.user = chief
    entry = security_log.record(Kind.NOT_FOUND, request=request)
    assert SECRET_ID not in entry.path


# Point 4: who reads it, and nobody edits it ------------------------------------------------------------


@pytest.mark.django_db
def test_the_operator_reads_the_trail_with_filters(client, operator, teacher):
    sign_in(client, teacher.username, "wrong-password")
    sign_in(client, "nobody-at-all", "wrong-password", addr="127.0.4.2")
    page = signed_in_client(operator).get(
        reverse("accounts:security-log"), {"kind": Kind.SIGN_IN_FAILED, "username": teacher.username}
    )
    rows = re.findall(r"<tr>\s*<td>", page.content.decode())
    assert page.status_code == 200 and len(rows) == 1
    assert "登入失敗" in page.content.decode() and "nobody-at-all" not in page.content.decode()
    by_address = signed_in_client(operator).get(reverse("accounts:security-log"), {"ip": "127.0.4.2"})
    assert "nobody-at-all" in by_address.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["chief", "centre", "teacher"])
def test_the_trail_is_for_the_operator_only(request, actor):
    response = signed_in_client(request.getfixturevalue(actor)).get(reverse("accounts:security-log"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_nobody_edits_or_deletes_entries_from_any_page(client, operator, teacher):
    sign_in(client, teacher.username, "wrong-password")
    entry = SecurityEvent.objects.get()
    admin = signed_in_client(operator)
    assert admin.get(reverse("admin:accounts_securityevent_changelist")).status_code == 200
    assert (
        admin.post(
            reverse("admin:accounts_securityevent_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = admin.post(reverse("admin:accounts_securityevent_change", args=[entry.pk]), {"username": "x"})
    assert response.status_code == 403
    html = admin.get(reverse("accounts:security-log")).content.decode()
    assert 'method="post"' not in html.split("<main", 1)[-1]
    assert SecurityEvent.objects.filter(pk=entry.pk, username=teacher.username).exists()


@pytest.mark.django_db
def test_entries_past_the_retention_period_are_purged_by_the_scheduled_task(teacher):
    old = security_log.record(Kind.SIGN_IN, user=teacher)
    recent = security_log.record(Kind.SIGN_IN, user=teacher)
    SecurityEvent.objects.filter(pk=old.pk).update(
        at=timezone.now() - dt.timedelta(days=settings.SECURITY_LOG_RETENTION_DAYS + 1)
    )
    assert purge_security_log.apply().get() == 1  # run here, whether or not a worker is up
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert any(
        entry["task"] == "accounts.tasks.purge_security_log"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )


# Point 5: one counter per account; a shared cache in production -----------------------------------------


@pytest.mark.django_db
def test_username_and_email_of_one_account_share_one_failure_counter(client, teacher):
    for login in [teacher.username, teacher.email, teacher.username.upper(), teacher.email, teacher.username]:
        sign_in(client, login, "wrong-password")
    response = sign_in(client, teacher.email, PASSWORD)
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_check_deploy_reports_a_per_process_cache_as_an_error():
    with override_settings(CACHES=LOCMEM):
        assert [e.id for e in check_shared_cache()] == ["accounts.E001"]
    with override_settings(CACHES=REDIS):
        assert check_shared_cache() == []


def test_the_web_process_refuses_to_serve_without_a_shared_cache():
    with override_settings(DEBUG=False, CACHES=LOCMEM), pytest.raises(Exception, match="REDIS_URL"):
        require_shared_cache()
    with override_settings(DEBUG=False, CACHES=REDIS):
        require_shared_cache()


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "test-only-" + "x" * 50,
    "NATIONAL_ID_HMAC_KEY": "k",
    "NATIONAL_ID_FERNET_KEY": "dGVzdC1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZSE=",
    "DJANGO_ALLOWED_HOSTS": "example.org",
}


def _run(code_or_args, extra_env):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(PRODUCTION_ENV, **extra_env)
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


@pytest.mark.live
def test_production_wsgi_does_not_start_without_redis_but_build_steps_run():
    no_redis = _run(["-c", "import inservice.wsgi"], {})
    assert no_redis.returncode != 0 and "REDIS_URL" in no_redis.stderr
    build = _run(["manage.py", "collectstatic", "--noinput", "--dry-run"], {})
    assert build.returncode == 0, build.stderr
    deploy = _run(["manage.py", "check", "--deploy"], {})
    assert deploy.returncode != 0 and "accounts.E001" in deploy.stderr
    with_redis = _run(["-c", "import inservice.wsgi"], {"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert with_redis.returncode == 0, with_redis.stderr


# Point 6: no personal data in caches or dev logs ----------------------------------------------------------


@pytest.mark.django_db
def test_signed_in_pages_are_never_stored(client, teacher):
    assert "no-store" not in client.get(reverse("home")).get("Cache-Control", "")
    response = signed_in_client(teacher).get(reverse("home"))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    "name", ["django", "django.server", "django.request", "django.security", "inservice"]
)
def test_every_log_line_goes_through_the_national_id_redaction(name):
    """The dev server's request log and Django's debug console included."""
    logger = logging.getLogger(name)
    handlers = []
    while logger:
        handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactNationalIdFilter) for f in handler.filters), (name, handler)


def test_the_dev_server_request_log_is_redacted(capsys):
    (handler,) = [
        h for h in logging.getLogger("django.server").handlers if not type(h).__module__.startswith("_pytest")
    ]
    record = logging.LogRecord(
        "django.server", logging.INFO, "", 0, '"GET /x/?id=%s HTTP/1.1" 404 0', (SECRET_ID,), None
    )
    assert handler.filter(record)
    assert SECRET_ID not in record.getMessage()


ID_FIELD = re.compile(r'name="[^"]*(national_id|nid|id_number)[^"]*"|\{\{ *form\.national_id', re.I)


def test_no_form_sends_an_id_in_a_url():
    """A GET form puts its fields in the URL: none may carry a national ID (rendered or spelt out)."""
    templates = Path(settings.BASE_DIR, "templates").rglob("*.html")
    for path in templates:
        html = path.read_text()
        for form in re.findall(r"<form\b(.*?)</form>", html, re.S):
            attrs = form.split(">", 1)[0]
            if 'method="post"' in attrs.lower():
                continue
            assert not ID_FIELD.search(form), path
            assert "{% for field in form %}" not in form or "apply" not in path.name, path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, data",
    [
        ("/accounts/login/", {"login": "x", "password": "secret-one"}),
        ("/accounts/reauthenticate/", {"password": "secret-one"}),
        (
            "/accounts/password/reset/key/1-set-password/",
            {"password1": "secret-one", "password2": "secret-one"},
        ),
        (
            "/business-accounts/apply/",
            {"national_id": SECRET_ID, "password1": "secret-one", "password2": "x"},
        ),
        ("/directory/", {"teacher_national_id": SECRET_ID, "otp_code": "123456"}),
    ],
)
def test_every_view_hides_ids_and_passwords_from_error_reports(client, teacher, path, data):
    from django.views.debug import SafeExceptionReporterFilter

    client.force_login(teacher)
    request = client.post(path, data).wsgi_request
    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
    for name in data:
        if name != "login":
            assert cleansed[name] == SafeExceptionReporterFilter.cleansed_substitute, (path, name)
