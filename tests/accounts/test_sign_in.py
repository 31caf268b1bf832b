"""Sign-in through django-allauth (SPEC §3.3): username or email, rate limits, reset, two factors."""

import time

import pytest
from django.core import mail
from django.urls import reverse

from accounts.middleware import SESSION_STARTED_KEY
from tests.factories import PASSWORD, UserFactory
from tests.helpers import signed_in_client, totp_code


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["username", "email"])
def test_teacher_signs_in_with_username_or_email(client, teacher, field):
    response = client.post(reverse("account_login"), {"login": getattr(teacher, field), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == teacher


@pytest.mark.django_db
def test_wrong_password_is_refused(client, teacher):
    response = client.post(
        reverse("account_login"), {"login": teacher.username, "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_is_rate_limited_after_five_failures(client, teacher):
    from django.core.cache import cache

    cache.clear()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": teacher.username, "password": "wrong-password"})
    response = client.post(reverse("account_login"), {"login": teacher.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "登入失敗次數過多，已暫時停止登入。" in response.content.decode()
    cache.clear()


@pytest.mark.django_db
def test_session_key_changes_at_sign_in(client, teacher):
    client.get(reverse("account_login"))
    before = client.session.session_key
    client.post(reverse("account_login"), {"login": teacher.username, "password": PASSWORD})
    assert client.session.session_key != before


@pytest.mark.django_db
def test_business_account_needs_the_totp_code(client, chief):
    response = client.post(reverse("account_login"), {"login": chief.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(chief.pk)


@pytest.mark.django_db
def test_business_account_without_second_factor_is_sent_to_set_one_up(client, school):
    from accounts.models import BusinessAccountType
    from tests.factories import BusinessAccountFactory

    user = BusinessAccountFactory(unit=school, type=BusinessAccountType.CLERK, totp=False).user
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    response = client.get("/unit/courses/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # Setting up a factor is a sensitive change: allauth asks for the password again first (SPEC §9),
    # unless the sign-in itself is fresh (tests/inservice/test_account_pages.py).
    session = client.session
    session["account_authentication_methods"] = [
        {**record, "at": record["at"] - 301} for record in session["account_authentication_methods"]
    ]
    session.save()
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


@pytest.mark.django_db
def test_teacher_is_not_asked_for_a_second_factor(teacher):
    assert signed_in_client(teacher).get("/me/profile/").status_code == 200


@pytest.mark.django_db
def test_session_ends_twelve_hours_after_sign_in_however_active(teacher):
    client = signed_in_client(teacher)
    assert client.get("/me/profile/").status_code == 200
    session = client.session
    session[SESSION_STARTED_KEY] = int(time.time()) - 12 * 3600 - 1
    session.save()
    response = client.get("/me/profile/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_idle_sessions_expire_after_thirty_minutes(client, teacher):
    import datetime as dt

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.post(reverse("account_login"), {"login": teacher.username, "password": PASSWORD})
    client.get("/me/profile/")
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    # Every request pushes the expiry 30 minutes ahead; idle longer and the session is gone.
    assert dt.timedelta(minutes=29) < remaining <= dt.timedelta(minutes=30)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/me/profile/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_password_reset_sends_a_link_by_email(client, teacher):
    response = client.post(reverse("account_reset_password"), {"email": teacher.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


@pytest.mark.django_db
def test_unverified_email_must_be_verified_before_sign_in(client):
    from allauth.account.models import EmailAddress

    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(verified=False)
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response["Location"] == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_open_sign_up_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {"username": "newbie", "email": "n@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    from accounts.models import User

    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_sign_out(teacher):
    client = signed_in_client(teacher)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
