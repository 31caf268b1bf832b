"""最新消息's attachment (issue 17): a PDF of at most settings.ANNOUNCEMENT_ATTACHMENT_MAX_BYTES (10 MB),
refused with a zh-Hant field error and nothing saved, on the form and in the services; the body is
bounded while it is read (core.uploads)."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.refusals import Kind
from planning import services
from planning.models import Announcement
from planning.services import PlanningError
from tests.helpers import signed_in_client

PDF = b"%PDF-1.4 test\n"


def pdf(size: int, name="notice.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + b"0" * (size - len(PDF)), content_type="application/pdf")


def _post(client, url, attachment, title="說明"):
    data = {"title": title, "published_on": "113/7/15", "body": "內容", "attachment": attachment}
    return client.post(url, data)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ANNOUNCEMENT_ATTACHMENT_MAX_BYTES = 64 * 1024  # the rule's edge, not 10 MB of test data
    return tmp_path


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_the_limit_is_ten_mb_in_settings(settings):
    assert settings.ANNOUNCEMENT_ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024


def test_an_attachment_over_the_limit_is_a_field_error_and_nothing_is_saved(centre, media):
    client = signed_in_client(centre)
    response = _post(client, reverse("planning:announcement-new"), pdf(64 * 1024 + 1))
    assert response.status_code == 200
    assert "附件超過" in response.context["form"].errors["attachment"][0]
    assert "未儲存任何資料" in response.content.decode()
    assert not Announcement.objects.exists() and _files(media) == []
    # At the limit it is taken.
    assert _post(client, reverse("planning:announcement-new"), pdf(64 * 1024)).status_code == 302
    assert Announcement.objects.get().attachment


def test_the_message_names_the_limit_in_mb(centre, media, settings):
    settings.ANNOUNCEMENT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"", content_type="application/pdf")
    big.size = 10 * 1024 * 1024 + 1  # said, not sent: the check reads the size first
    with pytest.raises(PlanningError) as refused:
        services.announcement_attachment_check(big)
    assert refused.value.message == "附件超過 10 MB 的上限，請壓縮或分割後再上傳；未儲存任何資料。"
    assert (refused.value.code, refused.value.kind) == ("attachment_too_big", Kind.INVALID)


def test_a_body_far_over_the_limit_is_refused_while_it_is_read(centre, media):
    # Content-Length over the limit plus the form's room: the file part is not read at all.
    response = _post(signed_in_client(centre), reverse("planning:announcement-new"), pdf(256 * 1024))
    assert response.status_code == 200
    assert "附件超過" in response.context["form"].errors["attachment"][0]
    assert not Announcement.objects.exists() and _files(media) == []


def test_an_attachment_that_is_not_a_pdf_is_a_field_error(centre, media):
    client = signed_in_client(centre)
    for upload in (
        SimpleUploadedFile("notice.docx", PDF, content_type="application/pdf"),  # the name
        SimpleUploadedFile(
            "notice.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
        ),  # the bytes
    ):
        response = _post(client, reverse("planning:announcement-new"), upload)
        assert response.status_code == 200
        assert response.context["form"].errors["attachment"] == [
            "附件須為 PDF 檔（副檔名 .pdf）；未儲存任何資料。"
        ]
    assert not Announcement.objects.exists() and _files(media) == []


def test_editing_with_a_too_big_attachment_keeps_the_item_and_its_file(centre, media):
    client = signed_in_client(centre)
    assert _post(client, reverse("planning:announcement-new"), pdf(1024), title="原標題").status_code == 302
    item = Announcement.objects.get()
    kept = item.attachment.name
    response = _post(client, reverse("planning:announcement-edit", args=[item.pk]), pdf(64 * 1024 + 1), "新")
    assert response.status_code == 200 and "附件超過" in response.context["form"].errors["attachment"][0]
    item.refresh_from_db()
    assert (item.title, item.attachment.name) == ("原標題", kept)
    assert len(_files(media)) == 1


def test_the_services_refuse_it_too_and_save_nothing(centre, media):
    day = dt.date(2024, 7, 15)
    with pytest.raises(PlanningError) as refused:
        services.announcement_publish(
            actor=centre, title="t", body="", published_on=day, attachment=pdf(64 * 1024 + 1)
        )
    assert refused.value.code == "attachment_too_big"
    with pytest.raises(PlanningError) as refused:
        services.announcement_publish(
            actor=centre, title="t", body="", published_on=day, attachment=pdf(1024, name="x.exe")
        )
    assert refused.value.code == "attachment_not_pdf"
    assert not Announcement.objects.exists() and _files(media) == []
    item = services.announcement_publish(actor=centre, title="原", body="", published_on=day)
    with pytest.raises(PlanningError):
        services.announcement_edit(
            actor=centre, pk=item.pk, title="改", body="", published_on=day, attachment=pdf(64 * 1024 + 1)
        )
    item.refresh_from_db()
    assert item.title == "原" and not item.attachment and _files(media) == []
