"""The operator issues a partner credential in the admin (token shown once) and revokes it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from courses import partners
from courses.models import PartnerCredential
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def test_the_operator_issues_a_credential_and_sees_the_token_once(operator, university):
    client = signed_in_client(operator)
    response = client.post(reverse("admin:courses_partnercredential_add"), {"unit": university.pk})
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request) if "只顯示這一次" in str(m)]
    assert len(shown) == 1
    token = shown[0].rsplit("：", 1)[1]
    credential = PartnerCredential.objects.get(unit=university)
    assert partners.authenticate(token) == credential
    changelist = reverse("admin:courses_partnercredential_changelist")
    assert token in client.get(changelist).content.decode()  # the message, once
    assert token not in client.get(changelist).content.decode()


def test_a_second_live_credential_for_a_unit_is_refused_in_the_admin(operator, university):
    partners.credential_issue(actor=operator, unit=university)
    response = signed_in_client(operator).post(
        reverse("admin:courses_partnercredential_add"), {"unit": university.pk}
    )
    assert response.status_code == 200 and "請先撤銷" in response.content.decode()
    assert PartnerCredential.objects.count() == 1


def test_the_operator_revokes_by_admin_action(operator, university):
    credential, token = partners.credential_issue(actor=operator, unit=university)
    signed_in_client(operator).post(
        reverse("admin:courses_partnercredential_changelist"),
        {"action": "revoke", "_selected_action": [credential.pk]},
    )
    credential.refresh_from_db()
    assert credential.revoked_at is not None and partners.authenticate(token) is None
