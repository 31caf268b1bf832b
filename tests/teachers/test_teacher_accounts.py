"""Issue 10 point 2: 申請教師帳號 without an oracle, activation by the roster's e-mail or the unit's manager."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Person, User
from teachers import services
from teachers.models import AccountStatus, ApplicationStatus, Membership, TeacherAccount, TeacherApplication
from tests.factories import BusinessAccountFactory, UserFactory, valid_national_id
from tests.helpers import signed_in_client

from .conftest import member, teacher_account

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-secret"


@pytest.fixture(autouse=True)
def _commit_callbacks(django_capture_on_commit_callbacks):
    """Run the e-mails queued with transaction.on_commit, as a real commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield


def apply(client, *, nid, name, username="newteacher", email="new@example.org"):
    with _capture(execute=True):
        return _post_application(client, nid=nid, name=name, username=username, email=email)


def _post_application(client, *, nid, name, username, email):
    return client.post(
        reverse("teachers:apply"),
        {
            "national_id": nid,
            "name": name,
            "username": username,
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def roster_state():
    return (
        list(Person.objects.order_by("pk").values_list("pk", "name", "email")),
        list(Membership.objects.order_by("pk").values_list("pk", "unit_id", "end_date", "title")),
        User.objects.count(),
        TeacherAccount.objects.count(),
    )


@pytest.fixture
def on_roster(school):
    return member(school, name="王小明", email="ming@school.example.org")


@pytest.mark.parametrize("case", ["match", "name_mismatch", "not_on_roster", "has_account", "no_email"])
def test_application_answers_the_same_page_whatever_the_id(case, school, on_roster):
    person = on_roster.person
    nid, name = person.reveal_national_id(), person.name
    if case == "name_mismatch":
        name = "王大明"
    elif case == "not_on_roster":
        nid = valid_national_id(999)
    elif case == "has_account":
        teacher_account(person)
    elif case == "no_email":
        person.email = ""
        person.save()
    before = roster_state()
    response = apply(Client(), nid=nid, name=name)
    assert response.status_code == 302 and response["Location"] == reverse("teachers:apply-done")
    done = Client().get(response["Location"]).content.decode()
    assert "申請已送出" in done and nid not in done
    assert roster_state() == before  # the application changes no roster data and makes no account


def test_matching_application_mails_the_activation_link_to_the_rosters_address(on_roster):
    apply(Client(), nid=on_roster.person.reveal_national_id(), name="王小明", email="typed@example.org")
    assert [m.to for m in mail.outbox] == [["ming@school.example.org"]]
    body = mail.outbox[0].body
    assert "newteacher" in body and on_roster.person.reveal_national_id() not in body
    link = re.search(r"http://testserver(/teacher-account/activate/\S+/)", body).group(1)
    client = Client()
    assert client.get(link).status_code == 200
    assert not User.objects.filter(username="newteacher").exists()  # GET alone activates nothing
    response = client.post(link)
    assert response.status_code == 302
    account = TeacherAccount.objects.get(person=on_roster.person)
    assert account.status == AccountStatus.ACTIVE and account.user.username == "newteacher"
    assert account.user.check_password(PASSWORD) and account.user.is_active
    # The typed address is not the roster's: it still has to be verified through allauth.
    assert not EmailAddress.objects.get(user=account.user).verified
    assert client.post(link).status_code == 400  # the link works once


def test_mismatch_mails_the_rosters_address_with_whom_to_ask(school, on_roster):
    contact = BusinessAccountFactory(unit=school, type="contact", phone="08-1234567")
    apply(Client(), nid=on_roster.person.reveal_national_id(), name="王大明")
    assert [m.to for m in mail.outbox] == [["ming@school.example.org"]]
    assert "姓名與學校登錄的教師資料不符" in mail.outbox[0].body
    assert contact.person.name in mail.outbox[0].body and "08-1234567" in mail.outbox[0].body
    assert not TeacherApplication.objects.exists()


def test_an_id_on_no_roster_sends_nothing_and_stores_nothing(school):
    apply(Client(), nid=valid_national_id(998), name="路人甲")
    assert mail.outbox == [] and not TeacherApplication.objects.exists()


def test_an_application_reserves_no_username_so_nobody_can_squat(on_roster):
    """An impostor applies first with the teacher's ID; the teacher's own application still works."""
    nid = on_roster.person.reveal_national_id()
    apply(Client(), nid=nid, name="王小明", username="impostor", email="impostor@example.org")
    apply(Client(), nid=nid, name="王小明", username="ming", email="ming@school.example.org")
    statuses = dict(TeacherApplication.objects.values_list("username", "status"))
    assert statuses == {"impostor": ApplicationStatus.SUPERSEDED, "ming": ApplicationStatus.WAITING}
    first_link = re.search(r"(/teacher-account/activate/\S+/)", mail.outbox[0].body).group(1)
    assert Client().post(first_link).status_code == 400
    second_link = re.search(r"(/teacher-account/activate/\S+/)", mail.outbox[1].body).group(1)
    Client().post(second_link)
    account = TeacherAccount.objects.get(person=on_roster.person)
    assert account.user.username == "ming"
    assert EmailAddress.objects.get(user=account.user).verified  # the roster's own address


def test_past_the_per_id_limit_the_receipt_is_the_same_and_nothing_is_stored_or_sent(on_roster):
    """Someone applies in a teacher's name again and again from many addresses: the same receipt
    every time (no 429 that tells the ID is being asked about), and past the per-ID limit no
    application is stored and no mail goes, so nobody can flood or block the teacher."""
    nid = on_roster.person.reveal_national_id()
    answers = []
    for n in range(services.APPLY_LIMIT_PER_ID + 3):
        response = apply(Client(REMOTE_ADDR=f"10.0.0.{n}"), nid=nid, name="王小明", username=f"u{n}")
        answers.append((response.status_code, response.url))
    assert set(answers) == {(302, reverse("teachers:apply-done"))}
    assert len(mail.outbox) == services.APPLY_LIMIT_PER_ID
    assert TeacherApplication.objects.filter(person=on_roster.person).count() == services.APPLY_LIMIT_PER_ID
    assert not TeacherApplication.objects.filter(username__in=["u3", "u4", "u5"]).exists()
    # An unknown ID past its limit answers exactly alike.
    unknown = valid_national_id(777)
    for n in range(services.APPLY_LIMIT_PER_ID + 1):
        response = apply(Client(REMOTE_ADDR=f"10.0.1.{n}"), nid=unknown, name="王小明")
        assert (response.status_code, response.url) == (302, reverse("teachers:apply-done"))


def test_applications_are_throttled_per_client(school):
    client = Client()
    for n in range(services.APPLY_LIMIT_PER_CLIENT):
        assert apply(client, nid=valid_national_id(500 + n), name="某人").status_code == 302
    assert apply(client, nid=valid_national_id(600), name="某人").status_code == 429


def test_the_application_form_never_echoes_the_id(school):
    nid = valid_national_id(501)
    response = apply(Client(), nid=nid, name="")  # a missing name: the form comes back with errors
    assert response.status_code == 200 and nid not in response.content.decode()


def test_manager_enables_a_waiting_application_when_the_roster_has_no_email(school, chief, on_roster):
    person = on_roster.person
    person.email = ""
    person.save()
    apply(Client(), nid=person.reveal_national_id(), name="王小明")
    assert mail.outbox == []
    client = signed_in_client(chief)
    page = client.get(reverse("teachers:member", args=[on_roster.pk])).content.decode()
    assert "newteacher" in page and "已向本人確認，啟用教師帳號" in page
    # Without the roster's address to compare, only the per-person confirmation enables it.
    client.post(reverse("teachers:enable", args=[on_roster.pk]))
    assert not TeacherAccount.objects.filter(person=person).exists()
    application = TeacherApplication.objects.get(person=person)
    client.post(reverse("teachers:enable", args=[on_roster.pk]), {"application": application.pk})
    account = TeacherAccount.objects.get(person=person)
    assert account.status == AccountStatus.ACTIVE and account.enabled_by == chief


def test_manager_disables_and_enables_again(school, contact, on_roster):
    account = teacher_account(on_roster.person)
    client = signed_in_client(contact)
    client.post(reverse("teachers:disable", args=[on_roster.pk]))
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert account.status == AccountStatus.DISABLED and not account.user.is_active
    client.post(reverse("teachers:enable", args=[on_roster.pk]))
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.user.is_active


def test_manager_cannot_enable_without_an_application(school, chief, on_roster):
    with pytest.raises(services.RosterError) as refused:
        services.teacher_account_enable(actor=chief, person=on_roster.person)
    assert refused.value.message == services.MSG_NO_APPLICATION


def test_manager_of_another_school_cannot_enable_or_disable(school, other_chief, on_roster):
    account = teacher_account(on_roster.person)
    client = signed_in_client(other_chief)
    assert client.post(reverse("teachers:disable", args=[on_roster.pk])).status_code == 404
    with pytest.raises(services.RosterError):
        services.teacher_account_disable(actor=other_chief, person=on_roster.person)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_clerk_and_teacher_cannot_enable(school, clerk, teacher, on_roster):
    for user in (clerk, teacher):
        assert signed_in_client(user).post(reverse("teachers:enable", args=[on_roster.pk])).status_code == 403


def test_one_email_serves_one_account_only(school, on_roster):
    """A person's business account and teacher account need two addresses (docs/architecture.md)."""
    BusinessAccountFactory(
        unit=school, user=UserFactory(person=on_roster.person, email="ming@school.example.org")
    )
    apply(Client(), nid=on_roster.person.reveal_national_id(), name="王小明", email="ming@school.example.org")
    link = re.search(r"(/teacher-account/activate/\S+/)", mail.outbox[0].body).group(1)
    response = Client().post(link)
    assert response.status_code == 409 and "已被其他帳號使用" in response.content.decode()
    assert not TeacherAccount.objects.exists()


def test_at_most_one_teacher_account_per_person(school, on_roster):
    teacher_account(on_roster.person)
    with pytest.raises(IntegrityError), transaction.atomic():
        TeacherAccount.objects.create(
            person=on_roster.person, user=UserFactory(), status=AccountStatus.ACTIVE
        )


def test_disabled_teacher_account_cannot_sign_in(school, on_roster):
    account = teacher_account(on_roster.person, status=AccountStatus.DISABLED)
    client = Client()
    client.post(
        reverse("account_login"), {"login": account.user.username, "password": "correct-horse-battery"}
    )
    assert "_auth_user_id" not in client.session
