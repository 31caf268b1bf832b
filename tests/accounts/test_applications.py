"""The public business-account application is no oracle and no way to write the roster (issue 9 points 1, 2),
and operator accounts follow the rules of the last chief (issue 9 point 11, issue 8 point 3)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.models import BusinessAccount, BusinessAccountStatus, BusinessAccountType, Person, User
from tests.conftest import signed_in_client
from tests.factories import BusinessAccountFactory, valid_national_id

CHIEF, CONTACT, CLERK = BusinessAccountType.CHIEF, BusinessAccountType.CONTACT, BusinessAccountType.CLERK
PENDING, ACTIVE = BusinessAccountStatus.PENDING, BusinessAccountStatus.ACTIVE
APPLY = "accounts:apply"


def apply_data(unit, n: int, **overrides):
    data = {
        "unit_code": unit.code,
        "account_type": CONTACT,
        "national_id": valid_national_id(9100 + n),
        "name": "林小華",
        "email": f"applicant{n}@example.org",
        "phone": "08-1234567",
        "username": f"applicant{n}",
        "password1": "a-long-enough-secret",
        "password2": "a-long-enough-secret",
    }
    data.update(overrides)
    return data


def answer(response) -> tuple:
    """What the applicant's browser learns: the status, where it goes, and the page it lands on."""
    return response.status_code, response.get("Location"), response.content


@pytest.mark.django_db
def test_the_answer_does_not_depend_on_whose_id_it_is(client, school, teacher, chief):
    """Issue 9 point 1: unknown ID, a roster ID with a guessed name, an ID holding an account, a taken
    username and a taken e-mail all get the same 申請已送出."""
    holder_id = chief.person.reveal_national_id()
    cases = [
        apply_data(school, 1),  # an ID nobody holds
        apply_data(school, 2, national_id=teacher.person.reveal_national_id(), name="猜錯的名字"),
        apply_data(school, 3, national_id=teacher.person.reveal_national_id(), name=teacher.person.name),
        apply_data(school, 4, national_id=holder_id),  # already holds a business account
        apply_data(school, 5, username=chief.username),  # username taken
        apply_data(school, 6, email=chief.email),  # e-mail taken
    ]
    answers = {
        answer(client.post(reverse(APPLY), data, REMOTE_ADDR=f"127.0.1.{i}")) for i, data in enumerate(cases)
    }
    assert answers == {(302, reverse("accounts:apply-done"), b"")}


@pytest.mark.django_db
def test_an_application_never_creates_or_changes_roster_data(client, school, teacher):
    """Issue 9 point 2: someone else's ID with any name leaves the roster as it was."""
    people_before = list(Person.objects.values_list("pk", "name", "email"))
    client.post(
        reverse(APPLY), apply_data(school, 1, national_id=teacher.person.reveal_national_id(), name="冒名者")
    )
    client.post(reverse(APPLY), apply_data(school, 2))  # an ID not on any roster
    assert list(Person.objects.values_list("pk", "name", "email")) == people_before
    assert BusinessAccount.objects.filter(status=PENDING, person__isnull=True).count() == 2
    assert User.objects.filter(username__in=["applicant1", "applicant2"], person__isnull=True).count() == 2


@pytest.mark.django_db
def test_the_manager_sees_the_mismatch_and_cannot_enable_it(client, school, teacher, chief):
    client.post(
        reverse(APPLY), apply_data(school, 1, national_id=teacher.person.reveal_national_id(), name="冒名者")
    )
    client.post(reverse(APPLY), apply_data(school, 2))
    squatter = BusinessAccount.objects.get(username="applicant1")
    html = signed_in_client(chief).get(reverse("accounts:unit-accounts")).content.decode()
    assert html.count("名冊核對不符") == 1
    page = signed_in_client(chief).get(reverse("accounts:enable", args=[squatter.pk])).content.decode()
    assert str(services.Refusal.NAME_MISMATCH.label) in page
    response = signed_in_client(chief).post(reverse("accounts:enable", args=[squatter.pk]))
    assert response.status_code == 409
    squatter.refresh_from_db()
    assert (squatter.status, squatter.person_id) == (PENDING, None)
    assert teacher.person.name != "冒名者" and Person.objects.filter(name="冒名者").count() == 0


@pytest.mark.django_db
def test_enabling_an_application_unknown_to_the_roster_creates_the_person_then(client, school, chief):
    client.post(reverse(APPLY), apply_data(school, 1))
    account = BusinessAccount.objects.get(username="applicant1")
    signed_in_client(chief).post(reverse("accounts:enable", args=[account.pk]))
    account.refresh_from_db()
    assert account.status == ACTIVE and account.person.name == "林小華"
    assert account.person.reveal_national_id() == valid_national_id(9101)
    assert account.user.person == account.person


@pytest.mark.django_db
def test_the_applicant_is_told_by_email_when_nothing_was_recorded(
    client, school, chief, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(APPLY), apply_data(school, 1, email=chief.email))
        client.post(reverse(APPLY), apply_data(school, 2))
    (refused,) = [m for m in mail.outbox if m.to == [chief.email]]
    assert str(services.Refusal.EMAIL_TAKEN.label) in refused.body
    (receipt,) = [m for m in mail.outbox if m.to == ["applicant2@example.org"]]
    assert "已收到" in receipt.subject and valid_national_id(9102) not in receipt.body
    # Issue 9 point 20: the receipt names the portal, in zh-Hant.
    assert receipt.subject.startswith("【全國教師在職進修資訊網】")
    assert "全國教師在職進修資訊網已收到您" in receipt.body
    assert not BusinessAccount.objects.filter(username="applicant1").exists()


@pytest.mark.django_db
def test_the_form_is_throttled_per_client_address(client, school):
    codes = [
        client.post(reverse(APPLY), apply_data(school, i), REMOTE_ADDR="127.0.2.1").status_code
        for i in range(11)
    ]
    assert codes == [302] * 10 + [429]
    assert client.post(reverse(APPLY), apply_data(school, 11), REMOTE_ADDR="127.0.2.2").status_code == 302


@pytest.mark.django_db
def test_the_form_is_throttled_per_national_id(client, school):
    same_id = valid_national_id(9199)
    codes = [
        client.post(
            reverse(APPLY), apply_data(school, i, national_id=same_id), REMOTE_ADDR=f"127.0.3.{i}"
        ).status_code
        for i in range(4)
    ]
    assert codes == [302, 302, 302, 429]
    assert BusinessAccount.objects.count() == 3


@pytest.mark.django_db
def test_the_apply_view_hides_ids_and_passwords_from_error_reports(rf):
    from accounts.views import apply

    # sensitive_post_parameters marks the request when the view runs; run it on a GET.
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}
    apply(request)
    assert set(request.sensitive_post_parameters) == {"national_id", "password1", "password2"}


# Operators (issue 9 point 11; issue 8 point 3) -------------------------------------------------------


@pytest.fixture
def second_operator(operator_unit):
    user = BusinessAccountFactory(unit=operator_unit, type=CHIEF).user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.mark.django_db
def test_enabling_an_operator_account_opens_the_admin_and_deleting_it_closes_it(operator, operator_unit):
    account = BusinessAccountFactory(unit=operator_unit, type=CHIEF, status=PENDING, enabled_at=None)
    account.user.is_active = False
    account.user.save()
    services.business_account_enable(actor=operator, account=account)
    newcomer = User.objects.get(pk=account.user_id)
    assert newcomer.is_staff
    assert signed_in_client(newcomer).get(reverse("admin:index")).status_code == 200
    services.business_account_delete(actor=operator, account=account)
    newcomer.refresh_from_db()
    assert not newcomer.is_staff and not newcomer.is_active


@pytest.mark.django_db
def test_nobody_deletes_their_own_account(operator, second_operator):
    own = operator.business_account
    response = signed_in_client(operator).post(reverse("accounts:delete", args=[own.pk]))
    assert response.status_code == 409
    assert str(services.Refusal.OWN_ACCOUNT.label) in response.content.decode()
    own.refresh_from_db()
    assert own.status == ACTIVE


@pytest.mark.django_db
def test_the_last_active_operator_cannot_be_deleted(operator, second_operator):
    # Two operators removing each other at the same moment: the second sees the first gone.
    stale_actor = User.objects.get(pk=second_operator.pk)
    assert stale_actor.business_account.is_active  # cached, as in a request that began before
    services.business_account_delete(actor=operator, account=second_operator.business_account)
    with pytest.raises(services.BusinessAccountError) as refused:
        services.business_account_delete(actor=stale_actor, account=operator.business_account)
    assert refused.value.message == services.Refusal.LAST_OPERATOR.label
    operator.business_account.refresh_from_db()
    assert operator.business_account.status == ACTIVE


@pytest.mark.django_db
def test_an_operator_account_cannot_be_downgraded(operator, second_operator):
    for new_type in (CONTACT, CLERK):
        with pytest.raises(services.BusinessAccountError):
            services.business_account_change_type(
                actor=operator, account=second_operator.business_account, new_type=new_type
            )
    second_operator.business_account.refresh_from_db()
    assert second_operator.business_account.type == CHIEF


@pytest.mark.django_db
def test_another_operator_may_be_deleted_while_one_remains(operator, second_operator):
    services.business_account_delete(actor=operator, account=second_operator.business_account)
    second_operator.business_account.refresh_from_db()
    assert second_operator.business_account.status == BusinessAccountStatus.DELETED


# The public directory (issue 9 point 10) -------------------------------------------------------------


@pytest.mark.django_db
def test_the_directory_leaves_out_the_operators_own_accounts(client, operator, operator_unit):
    html = client.get(reverse("accounts:directory"), {"q": operator_unit.code}).content.decode()
    assert operator.username not in html and operator.email not in html
    assert "查無符合的業務帳號" in html


@pytest.mark.django_db
def test_the_directory_labels_regional_centres(client, centre, authority, chief, school):
    html = client.get(reverse("accounts:directory"), {"authority": authority.code}).content.decode()
    assert f"{authority.name}區管中心" in html and "區管中心窗口" in html
    assert school.name in html


@pytest.mark.django_db
def test_the_directory_is_throttled_for_anonymous_clients(client, chief, school):
    codes = [
        client.get(reverse("accounts:directory"), {"q": school.code}, REMOTE_ADDR="127.0.5.1").status_code
        for _ in range(61)
    ]
    assert codes == [200] * 60 + [429]
    assert client.get(reverse("accounts:directory"), REMOTE_ADDR="127.0.5.2").status_code == 200
    assert (
        signed_in_client(chief).get(reverse("accounts:directory"), REMOTE_ADDR="127.0.5.1").status_code == 200
    )


@pytest.mark.django_db(transaction=True)
def test_two_operators_removing_each_other_at_once_leave_one(operator, second_operator):
    """On PostgreSQL, with real row locks: one removal wins, the other is refused; none deadlocks."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) are PostgreSQL's; SQLite serialises writers")
    actors = {
        "a": (User.objects.get(pk=operator.pk), operator.business_account),
        "b": (User.objects.get(pk=second_operator.pk), second_operator.business_account),
    }
    for actor, _ in actors.values():
        assert actor.business_account.is_active  # cached: both requests began while both were active
    barrier = threading.Barrier(2)
    outcomes = {}

    def remove(actor, target, key):
        try:
            barrier.wait()
            services.business_account_delete(actor=actor, account=target)
            outcomes[key] = "deleted"
        except services.BusinessAccountError as error:
            outcomes[key] = str(error.message)
        except Exception as error:  # a deadlock would land here
            outcomes[key] = repr(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=remove, args=(actors["a"][0], actors["b"][1], "a")),
        threading.Thread(target=remove, args=(actors["b"][0], actors["a"][1], "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == sorted(["deleted", str(services.Refusal.LAST_OPERATOR.label)]), (
        outcomes
    )
    assert BusinessAccount.objects.filter(unit__kind="operator", status=ACTIVE).count() == 1
