"""E-mails name the portal: branded zh-Hant verification, reset and application receipt (issue 9, point 20)."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

PREFIX = "【全國教師在職進修資訊網】"
ENGLISH = ("Hello from", "Thank you for using", "You're receiving", "testserver!")


def _assert_branded(message):
    assert message.subject.startswith(PREFIX), message.subject
    assert "全國教師在職進修資訊網 敬上" in message.body
    assert "service@inservice.example" in message.body
    for phrase in ENGLISH:
        assert phrase not in message.body and phrase not in message.subject


@pytest.mark.django_db
def test_password_reset_mail_is_branded_zh_hant(client, teacher):
    client.post(reverse("account_reset_password"), {"email": teacher.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    _assert_branded(message)
    assert message.subject == f"{PREFIX}重設密碼"
    assert "請開啟下列連結設定新密碼" in message.body
    assert "/accounts/password/reset/key/" in message.body
    assert f"您的使用者帳號是：{teacher.username}" in message.body


@pytest.mark.django_db
def test_email_verification_mail_is_branded_zh_hant(client, teacher):
    EmailAddress.objects.filter(user=teacher).update(verified=False)
    client.post(reverse("account_login"), {"login": teacher.username, "password": PASSWORD})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    _assert_branded(message)
    assert message.subject == f"{PREFIX}請驗證您的電子郵件"
    assert "/accounts/confirm-email/" in message.body
    assert f"帳號「{teacher.username}」" in message.body
