"""Issue 16 point 1: the 帳號漫遊 bind page (方式一) is no password oracle beside the sign-in page.

Each test performs the attack of the security test: fast guesses, a locked account, a business
account's right password. Every password check goes through allauth's sign-in limits (the same
counter as the sign-in page), and every failure gets one answer."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.models import BusinessAccountType
from teachers import sso, sso_views
from teachers.models import AccountStatus
from tests.conftest import make_business
from tests.factories import PASSWORD, BusinessAccountFactory
from tests.teachers.conftest import member, teacher_account

pytestmark = pytest.mark.django_db


def roaming_client(uid: str = "attacker-sub") -> Client:
    """A browser that has just come back from an SSO sign-in with an unbound `sub`."""
    client = Client()
    session = client.session
    session[sso.SESSION_KEY] = {"uid": uid, "eduinfo": {}}
    session.save()
    return client


def try_password(client: Client, login: str, password: str):
    return client.post(
        reverse("teachers:sso-bind"),
        {"method": "account", "account-login": login, "account-password": password},
    )


def answer(response) -> str:
    """The error block of 方式一 (the page minus the CSRF token), to compare answers."""
    assert response.status_code == 200
    text = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def nothing_bound(client: Client) -> bool:
    return not SocialAccount.objects.exists() and client.session.get(SESSION_KEY) is None


def test_forty_fast_guesses_lock_the_account_like_the_sign_in_page(school):
    account = teacher_account(member(school).person)
    client = roaming_client()
    answers = {answer(try_password(client, account.user.username, f"guess-{n}")) for n in range(40)}
    assert len(answers) == 1 and str(sso_views.MSG_NOT_BOUND) in answers.pop()
    # The right password now fails too, on this page and on the sign-in page (one counter).
    assert str(sso_views.MSG_NOT_BOUND) in answer(try_password(client, account.user.username, PASSWORD))
    assert nothing_bound(client)
    signin = Client().post(reverse("account_login"), {"login": account.user.username, "password": PASSWORD})
    assert signin.status_code == 200 and Client().session.get(SESSION_KEY) is None
    assert "登入失敗次數過多" in signin.content.decode()


def test_guesses_by_e_mail_count_on_the_same_account(school):
    account = teacher_account(member(school).person)
    client = roaming_client()
    for n in range(5):
        try_password(client, account.user.email, f"guess-{n}")
    assert str(sso_views.MSG_NOT_BOUND) in answer(try_password(client, account.user.username, PASSWORD))
    assert nothing_bound(client)


def test_an_account_locked_on_the_sign_in_page_is_not_bound_here(school):
    account = teacher_account(member(school).person)
    for n in range(5):
        Client().post(reverse("account_login"), {"login": account.user.username, "password": f"wrong-{n}"})
    client = roaming_client()
    response = try_password(client, account.user.username, PASSWORD)
    assert str(sso_views.MSG_NOT_BOUND) in answer(response)
    assert nothing_bound(client)
    assert client.session.get(sso.SESSION_KEY)  # the roaming sign-in may still use 方式二


def same_as_a_wrong_password(client: Client, login: str) -> None:
    wrong = answer(try_password(roaming_client("other-sub"), login, "whatever-123"))
    right = answer(try_password(client, login, PASSWORD))
    assert right == wrong
    assert str(sso_views.MSG_NOT_BOUND) in right


def test_a_business_accounts_right_password_answers_like_a_wrong_one(school):
    chief = make_business(school, BusinessAccountType.CHIEF)  # with its second factor
    assert Authenticator.objects.filter(user=chief).exists()
    client = roaming_client()
    same_as_a_wrong_password(client, chief.username)
    assert nothing_bound(client)


def test_a_business_account_without_a_second_factor_is_not_bound_either(school):
    clerk = BusinessAccountFactory(unit=school, type=BusinessAccountType.CLERK, totp=False).user
    client = roaming_client()
    same_as_a_wrong_password(client, clerk.username)
    assert nothing_bound(client)


def test_an_operator_account_is_not_bound(operator):
    client = roaming_client()
    same_as_a_wrong_password(client, operator.username)
    assert nothing_bound(client)


def test_a_disabled_or_already_bound_teacher_account_answers_alike(school):
    disabled = teacher_account(member(school).person, status=AccountStatus.DISABLED)
    client = roaming_client()
    same_as_a_wrong_password(client, disabled.user.username)
    bound = teacher_account(member(school).person)
    SocialAccount.objects.create(user=bound.user, provider=sso.PROVIDER, uid="earlier-sub")
    client = roaming_client()
    same_as_a_wrong_password(client, bound.user.username)
    assert SocialAccount.objects.count() == 1 and client.session.get(SESSION_KEY) is None


def test_a_teacher_with_a_second_factor_is_not_bound_by_password_alone(school):
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.factories import TOTP_SECRET

    account = teacher_account(member(school).person)
    TOTP.activate(account.user, TOTP_SECRET)
    client = roaming_client()
    same_as_a_wrong_password(client, account.user.username)
    assert nothing_bound(client)


def test_the_right_password_of_an_active_teacher_account_binds(school):
    account = teacher_account(member(school).person)
    client = roaming_client("teacher-sub")
    response = try_password(client, account.user.username, PASSWORD)
    assert response.status_code == 302
    assert SocialAccount.objects.get(provider=sso.PROVIDER).user == account.user
    assert client.session.get(SESSION_KEY) == str(account.user.pk)
