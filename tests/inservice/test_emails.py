"""E-mails name the portal: branded zh-Hant verification, reset and application receipt (issue 9, point 20)."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.template.loader import render_to_string
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


def test_application_receipt_template_names_the_portal_and_the_manager():
    context = {
        "unit_name": "屏東縣立示範國民小學",
        "unit_code": "134601",
        "account_type": "連絡人",
        "username": "contact2",
        "applied_at": dt.datetime(2024, 8, 5, 9, 30, tzinfo=dt.UTC),
        "manager": "該校總負責人",
    }
    subject = render_to_string("accounts/email/application_received_subject.txt", context).strip()
    body = render_to_string("accounts/email/application_received_message.txt", context)
    assert subject == "已收到您的業務帳號申請"
    assert "屏東縣立示範國民小學（134601）" in body
    assert "須由該校總負責人在本網站啟用後才能登入" in body
    assert "113年8月5日 17:30" in body  # ROC date, Taiwan time
    assert "全國教師在職進修資訊網 敬上" in body


def test_application_receipt_can_carry_a_problem_instead_of_the_next_step():
    body = render_to_string(
        "accounts/email/application_received_message.txt",
        {"problem": "姓名與本網站登錄的資料不符，管理者將與您聯繫。", "manager": "該校總負責人"},
    )
    assert "姓名與本網站登錄的資料不符" in body
    assert "須由該校總負責人" not in body
