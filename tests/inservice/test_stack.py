"""What each compose service needs, it has (issue 21 point 1): one media root shared by web and
worker, files with national IDs purged, one font lookup, /healthz, beat's state folder, e-mail."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail import EmailMessage, mail_admins, send_mail
from django.test import Client
from django.urls import reverse

from accounts.models import BusinessAccountType
from core import fonts, transient
from courses.feeds import configured_adapter
from inservice import healthcheck
from inservice.celery import app
from inservice.tasks import purge_transient_files
from teachers import batch
from teachers.models import RosterUpload, UploadStatus
from tests.factories import BusinessAccountFactory

ROOT = Path(__file__).resolve().parents[2]


def test_uploads_and_feed_files_go_under_the_media_roots_transient_folder():
    media = Path(django_settings.MEDIA_ROOT)
    assert Path(django_settings.TRANSIENT_ROOT).parent == media
    assert Path(django_settings.ROSTER_UPLOAD_DIR).is_relative_to(django_settings.TRANSIENT_ROOT)
    assert batch.upload_dir() == Path(django_settings.ROSTER_UPLOAD_DIR)
    assert configured_adapter().directory.is_relative_to(django_settings.TRANSIENT_ROOT)


@pytest.mark.live
def test_the_media_root_and_state_folder_come_from_the_environment(tmp_path):
    env = {**os.environ, "DJANGO_MEDIA_ROOT": str(tmp_path / "m"), "INSERVICE_STATE_DIR": str(tmp_path / "s")}
    code = (
        "from django.conf import settings as s;"
        "print(s.MEDIA_ROOT, s.ROSTER_UPLOAD_DIR, s.CELERY_BEAT_SCHEDULE_FILENAME, sep='|')"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "inservice.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    media, uploads, schedule = out.split("|")
    assert media == str(tmp_path / "m") and uploads == str(tmp_path / "m" / "transient" / "uploads")
    assert schedule == str(tmp_path / "s" / "celerybeat-schedule")


@pytest.mark.django_db
def test_an_upload_the_worker_cannot_see_is_refused_without_blaming_the_file(school):
    chief = BusinessAccountFactory(unit=school, type=BusinessAccountType.CHIEF).user
    upload = RosterUpload.objects.create(
        unit=school, actor=chief, file_name="roster.csv", stored_path=f"/nonexistent/{uuid.uuid4().hex}.csv"
    )
    result = batch.roster_upload_process(upload.pk)
    assert result.status == UploadStatus.REFUSED
    assert result.messages == [str(batch.MSG_FILE_GONE)] and "不是檔案內容的問題" in result.summary
    assert result.stored_path == ""


def test_transient_files_older_than_a_day_are_purged_by_a_beat_task(settings, tmp_path):
    settings.TRANSIENT_ROOT = tmp_path / "transient"
    old = transient.folder("uploads") / "roster-old.csv"
    fresh = transient.folder("feeds") / "kindergarten-hours-2025-11.json"
    old.write_text("A123456789")
    fresh.write_text("{}")
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(old, (day_and_a_bit, day_and_a_bit))
    assert purge_transient_files() == 1
    assert not old.exists() and fresh.exists()
    entry = settings.CELERY_BEAT_SCHEDULE["purge-transient-files"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks and entry["schedule"].minute == {20}  # hourly


def test_both_pdfs_use_the_one_font_lookup(settings, tmp_path):
    font = tmp_path / "Custom.ttf"
    font.write_bytes(b"not really a font")
    settings.CJK_FONT_FILES = [str(tmp_path / "missing.ttc"), str(font)]
    assert fonts.cjk_font() == fonts.Font(str(font), 0)
    settings.CJK_FONT_FILES = [str(tmp_path / "missing.ttc")]
    with pytest.raises(fonts.FontMissing) as missing:
        fonts.cjk_font()
    assert "缺少中文字型" in missing.value.message
    # Neither PDF module keeps a font path of its own.
    for module in ("courses/certificates.py", "planning/guide.py"):
        text = (ROOT / module).read_text()
        assert "/usr/share/fonts" not in text and "fonts.cjk_font()" in text


def test_the_image_installs_the_font_the_lookup_finds_first():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "fonts-noto-cjk" in dockerfile
    assert "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc" in django_settings.CJK_FONT_FILES


@pytest.mark.django_db
def test_healthz_checks_the_database_redis_and_the_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["media"] == "ok"
    assert ("redis" in body) == bool(settings.REDIS_URL)
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_is_down(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["redis"] == "error"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_media_root_is_not_writable(settings, tmp_path):
    if os.geteuid() == 0:
        settings.MEDIA_ROOT = "/proc/inservice-media"  # not even root writes there
    else:
        tmp_path.chmod(0o500)
        settings.MEDIA_ROOT = tmp_path
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["media"] == "error"


@pytest.mark.live
def test_the_web_health_check_asks_healthz_over_http(live_server, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setenv("INSERVICE_HEALTHCHECK_URL", f"{live_server.url}/healthz")
    assert healthcheck.web()
    monkeypatch.setenv("INSERVICE_HEALTHCHECK_URL", f"{live_server.url}/no-such-page")
    assert not healthcheck.web()


def test_the_beat_health_check_wants_a_fresh_schedule_file(monkeypatch, tmp_path):
    monkeypatch.setenv("INSERVICE_STATE_DIR", str(tmp_path))
    assert not healthcheck.beat()
    schedule = tmp_path / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    assert healthcheck.beat()
    stale = time.time() - healthcheck.BEAT_STALE_SECONDS - 60
    os.utime(schedule, (stale, stale))
    assert not healthcheck.beat()


def test_beats_schedule_file_is_in_the_state_folder_not_the_repository_root():
    schedule = Path(django_settings.CELERY_BEAT_SCHEDULE_FILENAME)
    assert schedule.parent == Path(django_settings.STATE_DIR) and schedule.parent != ROOT


def _portal_mail(settings):
    settings.EMAIL_BACKEND = "inservice.mail.PortalEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_DOMAIN = "inservice.example.gov.tw"
    settings.ADMINS = [("ops", "ops@example.gov.tw")]


def test_every_message_has_the_one_prefix_and_a_message_id_of_the_sites_domain(settings):
    _portal_mail(settings)
    send_mail("研習時數更正待核定", "body", None, ["a@example.org"])
    send_mail("【全國教師在職進修資訊網】確認綁定帳號漫遊", "body", None, ["b@example.org"])
    mail_admins("獎勵作業失敗", "body")
    EmailMessage(
        "附件", "body", to=["c@example.org"], headers={"Message-ID": "<kept@inservice.example.gov.tw>"}
    ).send()
    prefix = settings.EMAIL_SUBJECT_PREFIX
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        f"{prefix}研習時數更正待核定",
        f"{prefix}確認綁定帳號漫遊",
        f"{prefix}獎勵作業失敗",
        f"{prefix}附件",
    ]
    ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert all(i.endswith("@inservice.example.gov.tw>") for i in ids) and len(set(ids)) == 4
    assert ids[3] == "<kept@inservice.example.gov.tw>"


@pytest.mark.live
def test_production_sends_through_the_portal_backend():
    assert django_settings.EMAIL_SUBJECT_PREFIX == django_settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.EMAIL_BACKEND, s.SITE_DOMAIN)",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "inservice.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "x" * 50,
            "NATIONAL_ID_HMAC_KEY": "k",
            "NATIONAL_ID_FERNET_KEY": "ZGVtby1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZXk=",
            "DJANGO_ALLOWED_HOSTS": "inservice.example.gov.tw,www.example.gov.tw",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["inservice.mail.PortalEmailBackend", "inservice.example.gov.tw"]
