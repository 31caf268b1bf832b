"""帳號漫遊 方式二 (national ID and name): the mailed binding link asks before it binds (issue 19
point 1), and the by-ID request is no oracle and no way to block a teacher (issue 16 point 8)."""

import datetime as dt
import urllib.parse

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.test import Client
from django.urls import reverse

from teachers import sso, tasks
from teachers.models import TeacherAccount
from tests.teachers.conftest import ask_by_id, member

pytestmark = pytest.mark.django_db


def roaming_client(uid: str, eduinfo: dict, asker: str = "林漫遊") -> Client:
    client = Client()
    session = client.session
    session[sso.SESSION_KEY] = {"uid": uid, "eduinfo": eduinfo, "asker": asker}
    session.save()
    return client


def eduinfo_of(unit) -> dict:
    return {"schoolid": unit.code, "titles": [{"schoolid": unit.code, "titles": ["教師"]}]}


def confirm_path(message) -> str:
    link = next(word for word in message.body.split() if "/sso/bind/confirm/" in word)
    return urllib.parse.urlsplit(link).path


def test_the_link_shows_who_asked_and_binds_only_on_post(school, other_school):
    membership = member(school, name="黃老師", email="huang@example.org", start=dt.date(2020, 8, 1))
    person = membership.person
    response = ask_by_id(
        roaming_client("sub-a", eduinfo_of(other_school), "陌生人"), person.reveal_national_id(), "黃老師"
    )
    assert response.url == reverse("teachers:sso-sent")
    (message,) = mail.outbox
    # The mail names the SSO account that asked: its name and its school (from eduinfo).
    assert "陌生人" in message.body and other_school.name in message.body
    path = confirm_path(message)

    # A mail gateway follows the link: nothing is bound, no account made, no school moved.
    page = Client().get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert "陌生人" in text and other_school.name in text and 'method="post"' in text
    assert not SocialAccount.objects.exists()
    assert not TeacherAccount.objects.filter(person=person).exists()
    assert list(person.memberships.values_list("unit", flat=True)) == [school.pk]

    # The person confirms: bound, and the school follows eduinfo.
    assert Client().post(path).url == reverse("account_login")
    account = TeacherAccount.objects.get(person=person)
    assert SocialAccount.objects.get(provider=sso.PROVIDER, uid="sub-a").user == account.user
    assert person.memberships.get(end_date__isnull=True).unit == other_school

    # The link is spent: a second visit says so and binds nothing more.
    assert Client().get(path).status_code == 400
    assert Client().post(path).status_code == 400
    assert SocialAccount.objects.count() == 1


def test_a_tampered_or_foreign_link_binds_nothing(school):
    person = member(school, name="周老師", email="chou@example.org").person
    ask_by_id(roaming_client("sub-b", eduinfo_of(school)), person.reveal_national_id(), "周老師")
    path = confirm_path(mail.outbox[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert Client().get(forged).status_code == 400
    assert Client().post(forged).status_code == 400
    assert not SocialAccount.objects.exists()


def test_the_answer_is_the_same_and_the_work_is_queued_for_every_id(school, monkeypatch):
    """Known or unknown ID, right or wrong name: one queued task, the same receipt, no mail sent
    from the request itself."""
    person = member(school, name="吳老師", email="wu@example.org").person
    queued = []
    monkeypatch.setattr(tasks.send_sso_binding_mail, "delay", lambda *args: queued.append(args))
    answers = []
    for national_id, name in [
        (person.reveal_national_id(), "吳老師"),
        (person.reveal_national_id(), "吳錯誤"),
        ("A123456789", "吳老師"),
    ]:
        response = ask_by_id(roaming_client("sub-c", eduinfo_of(school)), national_id, name)
        answers.append((response.status_code, response.url))
    assert len(set(answers)) == 1 and answers[0] == (302, reverse("teachers:sso-sent"))
    assert len(queued) == 3 and mail.outbox == []
    assert all(person.reveal_national_id() not in repr(args) for args in queued)  # digests only


def test_past_the_per_id_limit_no_mail_and_the_teacher_is_not_blocked_elsewhere(school):
    """Someone asks for a teacher's ID again and again: the same receipt every time, no mail
    past the limit, and the limit is no 429 that would tell the ID is being asked about."""
    person = member(school, name="鄭老師", email="cheng@example.org").person
    for n in range(6):
        response = ask_by_id(
            roaming_client(f"sub-d{n}", eduinfo_of(school)), person.reveal_national_id(), "鄭老師"
        )
        assert response.status_code == 302 and response.url == reverse("teachers:sso-sent")
    assert len(mail.outbox) == 3


def test_the_per_client_limit_stays(school):
    statuses = []
    for n in range(11):  # teacher_account_apply: 10 an hour per client address
        response = ask_by_id(roaming_client(f"sub-e{n}", eduinfo_of(school)), "A123456789", "某某")
        statuses.append(response.status_code)
    assert statuses == [302] * 10 + [429]


def test_the_worker_task_mails_only_a_serving_person_with_a_roster_address(school):
    from accounts import national_id

    person = member(school, name="許老師", email="hsu@example.org").person
    digest = national_id.digest(person.reveal_national_id())
    assert tasks.send_sso_binding_mail(digest, "許老師", "sub-f", eduinfo_of(school), "許", "http://x")
    assert not tasks.send_sso_binding_mail(digest, "許錯誤", "sub-f", {}, "", "http://x")
    person.email = ""
    person.save(update_fields=["email"])
    assert not tasks.send_sso_binding_mail(digest, "許老師", "sub-f", {}, "", "http://x")
    assert len(mail.outbox) == 1
