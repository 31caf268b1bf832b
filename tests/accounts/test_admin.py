"""The operator's Django admin shows no secret and goes around no rule (issue 9 points 3 and 21)."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core import mail
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Unit
from core.roc import format_roc_date
from tests.conftest import signed_in_client
from tests.factories import TOTP_SECRET


@pytest.mark.django_db
def test_the_admin_never_shows_a_totp_secret(operator, chief):
    admin = signed_in_client(operator)
    totp = Authenticator.objects.get(user=chief, type=Authenticator.Type.TOTP)
    pages = [
        reverse("admin:mfa_authenticator_changelist"),
        reverse("admin:mfa_authenticator_change", args=[totp.pk]),
        reverse("admin:accounts_user_change", args=[chief.pk]),
    ]
    for path in pages:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert TOTP_SECRET not in response.content.decode(), path
    response = admin.post(reverse("admin:mfa_authenticator_change", args=[totp.pk]), {"data": "{}"})
    assert response.status_code == 403
    totp.refresh_from_db()
    assert totp.data["secret"]


@pytest.mark.django_db
def test_the_admin_sets_no_password(operator, chief):
    admin = signed_in_client(operator)
    with pytest.raises(NoReverseMatch):
        reverse("admin:auth_user_password_change", args=[chief.pk])
    assert admin.get(f"/admin/accounts/user/{chief.pk}/password/").status_code in (302, 404)
    old_hash = chief.password
    html = admin.get(reverse("admin:accounts_user_change", args=[chief.pk])).content.decode()
    assert old_hash not in html and 'name="password' not in html
    chief.refresh_from_db()
    assert chief.password == old_hash


@pytest.mark.django_db
def test_the_admin_cannot_deactivate_or_promote_an_account(operator, chief):
    admin = signed_in_client(operator)
    response = admin.post(
        reverse("admin:accounts_user_change", args=[chief.pk]),
        {"username": chief.username, "is_active": "", "is_superuser": "on"},
    )
    assert response.status_code == 403
    chief.refresh_from_db()
    assert chief.is_active and not chief.is_superuser
    account = chief.business_account
    response = admin.post(
        reverse("admin:accounts_businessaccount_change", args=[account.pk]), {"status": "deleted"}
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_admin_sends_a_reset_email_and_the_portal_shows_it(
    operator, chief, django_capture_on_commit_callbacks
):
    admin = signed_in_client(operator)
    response = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "send_password_reset", "_selected_action": [chief.pk]},
    )
    assert response.status_code == 302
    (sent,) = mail.outbox
    assert sent.to == [chief.email]
    html = admin.get(reverse("accounts:admin-log")).content.decode()
    assert "寄送密碼重設信" in html and operator.username in html


@pytest.mark.django_db
def test_every_admin_change_appears_in_the_portal_audit_trail(operator, school):
    admin = signed_in_client(operator)
    data = {"code": school.code, "name": "改名後的國小", "kind": school.kind, "stage": school.stage}
    data["authority"] = school.authority_id
    response = admin.post(reverse("admin:accounts_unit_change", args=[school.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Unit.objects.get(pk=school.pk).name == "改名後的國小"
    assert AdminLogEntry.objects.filter(user=operator, object_id=str(school.pk)).exists()
    html = admin.get(reverse("accounts:admin-log")).content.decode()
    assert "改名後的國小" in html and "修改" in html


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["chief", "centre", "teacher"])
def test_the_admin_log_is_for_the_operator_only(request, actor):
    response = signed_in_client(request.getfixturevalue(actor)).get(reverse("accounts:admin-log"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_admin_shows_roc_dates(operator, chief):
    admin = signed_in_client(operator)
    today = format_roc_date(timezone.localdate())
    for name in (
        "accounts_user_changelist",
        "accounts_businessaccount_changelist",
        "auditlog_logentry_changelist",
    ):
        html = admin.get(reverse(f"admin:{name}")).content.decode()
        assert today in html, name
