"""Business accounts (業務帳號): every rule of SPEC §3.2, through the web pages, allowed and forbidden."""

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.urls import reverse

from accounts import national_id, services
from accounts.models import (
    BusinessAccount,
    BusinessAccountStatus,
    BusinessAccountType,
    Person,
    User,
)
from accounts.services import Refusal
from courses.models import Course, CourseStatus
from tests.factories import (
    BusinessAccountFactory,
    SchoolFactory,
    UserFactory,
    valid_national_id,
)
from tests.helpers import signed_in_client

CHIEF, CONTACT, CLERK = BusinessAccountType.CHIEF, BusinessAccountType.CONTACT, BusinessAccountType.CLERK
PENDING, ACTIVE, DELETED = (
    BusinessAccountStatus.PENDING,
    BusinessAccountStatus.ACTIVE,
    BusinessAccountStatus.DELETED,
)


def pending(unit, account_type):
    return BusinessAccountFactory(unit=unit, type=account_type, status=PENDING, enabled_at=None)


def snapshot(account):
    account = BusinessAccount.objects.select_related("user").get(pk=account.pk)
    return (account.status, account.type, account.user.is_active, account.user.username)


def post(user, name, account, **data):
    return signed_in_client(user).post(reverse(f"accounts:{name}", args=[account.pk]), data)


def apply_data(unit, **overrides):
    data = {
        "unit_code": unit.code,
        "account_type": CONTACT,
        "national_id": valid_national_id(9001),
        "name": "林小華",
        "email": "applicant@example.org",
        "phone": "08-1234567",
        "username": "applicant",
        "password1": "a-long-enough-secret",
        "password2": "a-long-enough-secret",
    }
    data.update(overrides)
    return data


# Rule 4: apply, then pending until enabled ------------------------------------------------------


@pytest.mark.django_db
def test_application_is_pending_and_cannot_sign_in(client, school):
    response = client.post(reverse("accounts:apply"), apply_data(school))
    assert response.status_code == 302
    account = BusinessAccount.objects.get(username="applicant")
    assert (account.status, account.type, account.unit) == (PENDING, CONTACT, school)
    assert account.applicant_national_id_digest == national_id.digest(valid_national_id(9001))
    assert not account.user.is_active
    client.post(reverse("account_login"), {"login": "applicant", "password": "a-long-enough-secret"})
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_application_form_refuses_bad_input_and_writes_nothing(client, school):
    data = apply_data(school, national_id="A123456788", password2="different-secret", unit_code="NOPE")
    response = client.post(reverse("accounts:apply"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "身分證字號或居留證號檢查碼不正確。" in html
    assert "查無此單位代碼。" in html
    assert "兩次輸入的密碼不一致。" in html
    assert "A123456788" not in html  # the typed ID is never echoed back
    assert not BusinessAccount.objects.exists() and not User.objects.filter(username="applicant").exists()


@pytest.mark.django_db
def test_one_business_account_per_national_id(client, chief, school, centre, other_school):
    client.post(reverse("accounts:apply"), apply_data(school))
    post(chief, "enable", BusinessAccount.objects.get(username="applicant"))
    response = client.post(
        reverse("accounts:apply"),
        apply_data(other_school, username="second", email="second@example.org", account_type=CHIEF),
    )
    assert response.status_code == 302  # the applicant is told nothing about the ID
    second = BusinessAccount.objects.get(username="second")
    response = post(centre, "enable", second)
    assert str(Refusal.ALREADY_HAS_ACCOUNT.label) in response.content.decode()
    assert (
        BusinessAccount.objects.filter(status=ACTIVE, person__isnull=False).exclude(pk=second.pk).count()
        == BusinessAccount.objects.filter(status=ACTIVE).count()
    )
    assert snapshot(second)[0] == PENDING


@pytest.mark.django_db
def test_existing_person_must_give_the_same_name(client, chief, school, teacher):
    nid = teacher.person.reveal_national_id()
    client.post(reverse("accounts:apply"), apply_data(school, national_id=nid, name="別人"))
    wrong = BusinessAccount.objects.get(username="applicant")
    response = post(chief, "enable", wrong)
    assert str(Refusal.NAME_MISMATCH.label) in response.content.decode()
    assert snapshot(wrong)[0] == PENDING and teacher.person.name != "別人"
    post(chief, "delete", wrong)
    client.post(reverse("accounts:apply"), apply_data(school, national_id=nid, name=teacher.person.name))
    right = BusinessAccount.objects.live().get(username="applicant")
    post(chief, "enable", right)
    right.refresh_from_db()
    assert right.person == teacher.person and right.user.person == teacher.person


# Rule 1: 大專校院, 法人, 社教機構 hold only 作業人員, managed by the operator ---------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("account_type", [CHIEF, CONTACT])
def test_university_may_only_apply_for_a_clerk(client, university, account_type):
    response = client.post(reverse("accounts:apply"), apply_data(university, account_type=account_type))
    assert str(Refusal.TYPE_NOT_ALLOWED.label) in response.content.decode()
    assert not BusinessAccount.objects.exists()


@pytest.mark.django_db
def test_operator_enables_a_university_clerk(operator, university):
    account = pending(university, CLERK)
    response = post(operator, "enable", account)
    assert response.status_code == 302
    assert snapshot(account)[0] == ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["chief", "centre"])
def test_nobody_but_the_operator_manages_university_accounts(request, university, actor):
    account = pending(university, CLERK)
    before = snapshot(account)
    user = request.getfixturevalue(actor)
    for action in ("enable", "delete"):
        assert post(user, action, account).status_code == 404
    assert snapshot(account) == before


@pytest.mark.django_db
def test_university_clerk_cannot_be_changed_to_another_type(operator, university):
    account = BusinessAccountFactory(unit=university, type=CLERK)
    response = post(operator, "change-type", account, new_type=CONTACT)
    assert response.status_code == 200  # the form offers no other type
    assert snapshot(account)[1] == CLERK
    with pytest.raises(services.BusinessAccountError):
        services.business_account_change_type(actor=operator, account=account, new_type=CONTACT)


# Rule 2: the centre manages a school's 總負責人; the school's 總負責人 its 連絡人 and 作業人員 -----------


@pytest.mark.django_db
def test_centre_enables_a_school_chief(centre, school):
    account = pending(school, CHIEF)
    assert post(centre, "enable", account).status_code == 302
    status, _, user_active, _ = snapshot(account)
    assert status == ACTIVE and user_active


@pytest.mark.django_db
def test_centre_of_another_authority_cannot_touch_the_chief(other_centre, school):
    account = pending(school, CHIEF)
    before = snapshot(account)
    for action in ("enable", "change-type", "delete"):
        assert post(other_centre, action, account, new_type=CONTACT).status_code == 404
    assert snapshot(account) == before


@pytest.mark.django_db
def test_school_chief_cannot_enable_change_or_delete_a_chief(chief, school):
    account = pending(school, CHIEF)
    before = snapshot(account)
    for action in ("enable", "change-type", "delete"):
        assert post(chief, action, account, new_type=CONTACT).status_code == 403
    assert snapshot(account) == before


@pytest.mark.django_db
def test_operator_cannot_enable_a_school_chief(operator, school):
    account = pending(school, CHIEF)
    assert post(operator, "enable", account).status_code == 404
    assert snapshot(account)[0] == PENDING


@pytest.mark.django_db
def test_school_chief_enables_changes_and_deletes_a_contact(chief, school):
    account = pending(school, CONTACT)
    assert post(chief, "enable", account).status_code == 302
    assert snapshot(account)[0] == ACTIVE
    assert post(chief, "change-type", account, new_type=CLERK).status_code == 302
    assert snapshot(account)[1] == CLERK
    assert post(chief, "delete", account).status_code == 302
    assert snapshot(account)[0] == DELETED


@pytest.mark.django_db
def test_school_chief_cannot_promote_a_contact_to_chief(chief, school):
    account = BusinessAccountFactory(unit=school, type=CONTACT)
    response = post(chief, "change-type", account, new_type=CHIEF)
    assert response.status_code == 200
    form = response.context["form"]
    assert CHIEF not in dict(form.fields["new_type"].choices)  # not offered ...
    assert form.has_error("new_type", code="invalid_choice")  # ... and refused when posted anyway
    assert snapshot(account)[1] == CONTACT
    with pytest.raises(services.BusinessAccountError) as err:
        services.business_account_change_type(actor=chief, account=account, new_type=CHIEF)
    assert err.value.code == Refusal.FORBIDDEN
    assert snapshot(account)[1] == CONTACT


@pytest.mark.django_db
def test_chief_of_another_school_gets_404_and_nothing_changes(other_chief, school):
    account = pending(school, CONTACT)
    before = snapshot(account)
    for action in ("enable", "change-type", "delete"):
        client = signed_in_client(other_chief)
        assert client.get(reverse(f"accounts:{action}", args=[account.pk])).status_code == 404
        assert post(other_chief, action, account, new_type=CLERK).status_code == 404
    assert snapshot(account) == before
    assert (
        account.username
        not in signed_in_client(other_chief).get(reverse("accounts:unit-accounts")).content.decode()
    )


@pytest.mark.django_db
def test_chief_sees_a_fellow_chief_but_manages_neither_it_nor_outsiders(actors):
    cast = actors("chief")
    html = signed_in_client(cast.actor).get(reverse("accounts:unit-accounts")).content.decode()
    assert cast.colleague.username in html
    for outsider in (cast.outsider, cast.far_outsider):
        assert outsider.username not in html
    accounts = [user.business_account for user in (cast.colleague, cast.outsider, cast.far_outsider)]
    before = [snapshot(account) for account in accounts]
    colleague, outsider, far_outsider = accounts
    assert post(cast.actor, "delete", colleague).status_code == 403  # visible, but the centre's to manage
    assert post(cast.actor, "delete", outsider).status_code == 404
    assert post(cast.actor, "delete", far_outsider).status_code == 404
    assert [snapshot(account) for account in accounts] == before


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["contact", "clerk", "teacher"])
def test_contacts_clerks_and_teachers_cannot_manage_accounts(request, school, actor):
    account = pending(school, CLERK)
    before = snapshot(account)
    user = request.getfixturevalue(actor)
    assert signed_in_client(user).get(reverse("accounts:unit-accounts")).status_code == 403
    for action in ("enable", "change-type", "delete"):
        assert post(user, action, account, new_type=CONTACT).status_code == 403
    assert snapshot(account) == before


@pytest.mark.django_db
def test_centre_cannot_manage_a_school_contact(centre, school):
    account = pending(school, CONTACT)
    assert post(centre, "enable", account).status_code == 404
    assert snapshot(account)[0] == PENDING


# Rule 3: a K-12 school keeps at least one 總負責人 -------------------------------------------------


@pytest.mark.django_db
def test_last_chief_cannot_be_deleted(centre, chief):
    account = chief.business_account
    response = post(centre, "delete", account)
    assert response.status_code == 409
    assert str(Refusal.LAST_CHIEF.label) in response.content.decode()
    assert snapshot(account)[0] == ACTIVE


@pytest.mark.django_db
def test_last_chief_cannot_be_downgraded(centre, chief):
    account = chief.business_account
    response = post(centre, "change-type", account, new_type=CONTACT)
    assert response.status_code == 409
    assert str(Refusal.LAST_CHIEF.label) in response.content.decode()
    assert snapshot(account)[1] == CHIEF


@pytest.mark.django_db
def test_a_chief_can_go_once_another_is_active(centre, chief, school):
    second = pending(school, CHIEF)
    assert post(centre, "delete", chief.business_account).status_code == 409  # the second is only pending
    post(centre, "enable", second)
    assert post(centre, "change-type", chief.business_account, new_type=CONTACT).status_code == 302
    assert snapshot(chief.business_account)[1] == CONTACT
    assert post(centre, "delete", second).status_code == 409  # now the last one again


# Rule 5: deletion only when every course the account registered is 名單確認通過 -----------------------


@pytest.mark.django_db
def test_deletion_is_refused_while_a_course_is_unconfirmed(chief, clerk, school):
    open_course = Course.objects.create(
        code="C-001", title="校園安全研習", organiser=school, registered_by=clerk, status=CourseStatus.OPEN
    )
    Course.objects.create(
        code="C-002", title="已確認課程", organiser=school, registered_by=clerk, status=CourseStatus.CONFIRMED
    )
    response = post(chief, "delete", clerk.business_account)
    html = response.content.decode()
    assert response.status_code == 409
    assert str(Refusal.UNFINISHED_COURSES.label) in html
    assert "C-001 校園安全研習（開放報名）" in html
    assert "C-002" not in html
    assert snapshot(clerk.business_account)[0] == ACTIVE
    open_course.status = CourseStatus.CONFIRMED
    open_course.save()
    assert post(chief, "delete", clerk.business_account).status_code == 302
    assert snapshot(clerk.business_account)[0] == DELETED


# Rule 6: after deletion the person may apply again, reusing a free username ------------------------


@pytest.mark.django_db
def test_deleted_holder_reapplies_elsewhere_with_the_old_username(client, chief, school, other_school):
    client.post(reverse("accounts:apply"), apply_data(school))
    account = BusinessAccount.objects.get(username="applicant")
    post(chief, "enable", account)
    assert post(chief, "delete", account).status_code == 302
    account.refresh_from_db()
    assert not account.user.is_active and account.user.username != "applicant"
    response = client.post(reverse("accounts:apply"), apply_data(other_school))
    assert response.status_code == 302
    again = BusinessAccount.objects.live().get(username="applicant")
    assert (again.unit, again.status) == (other_school, PENDING)
    assert again.applicant_national_id_digest == account.applicant_national_id_digest
    assert BusinessAccount.objects.filter(person=account.person).count() == 1  # the old one kept as history


@pytest.mark.django_db
def test_deleted_username_taken_by_someone_else_is_not_given_back(
    client, chief, school, django_capture_on_commit_callbacks
):
    client.post(reverse("accounts:apply"), apply_data(school))
    account = BusinessAccount.objects.get(username="applicant")
    post(chief, "delete", account)
    UserFactory(username="applicant")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:apply"), apply_data(school))
    assert response.status_code == 302  # told by e-mail to the given address, not on the page
    assert str(Refusal.USERNAME_TAKEN.label) in mail.outbox[-1].body
    assert not BusinessAccount.objects.live().filter(username="applicant").exists()


# Rule 7: every enable, type change and deletion is recorded ----------------------------------------


@pytest.mark.django_db
def test_enable_change_and_delete_are_audited_with_actor_and_before_after(chief, school, operator):
    account = pending(school, CONTACT)
    post(chief, "enable", account)
    post(chief, "change-type", account, new_type=CLERK)
    post(chief, "delete", account)
    entries = LogEntry.objects.get_for_object(account).filter(actor=chief).order_by("timestamp")
    changes = [entry.changes_dict for entry in entries]
    assert changes[0]["status"] == ["pending", "active"]
    assert changes[1]["type"] == ["contact", "clerk"]
    assert changes[2]["status"] == ["active", "deleted"]
    html = signed_in_client(operator).get(reverse("accounts:audit-log")).content.decode()
    assert account.username in html and chief.username in html
    assert "已刪除" in html and "作業人員" in html
    assert account.person.reveal_national_id() not in html


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["chief", "centre", "teacher"])
def test_audit_log_is_for_the_operator_only(request, actor):
    assert (
        signed_in_client(request.getfixturevalue(actor)).get(reverse("accounts:audit-log")).status_code == 403
    )


# Screens ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unit_screen_lists_the_units_accounts_with_masked_names(chief, contact, school, other_chief):
    applicant = pending(school, CLERK)
    html = signed_in_client(chief).get(reverse("accounts:unit-accounts")).content.decode()
    for account in (chief.business_account, contact.business_account, applicant):
        assert account.username in html
        assert account.person.masked_name in html
    for account in (contact.business_account, applicant):
        assert account.person.name not in html
    assert other_chief.username not in html
    assert reverse("accounts:enable", args=[applicant.pk]) in html
    assert reverse("accounts:delete", args=[chief.business_account.pk]) not in html  # 由區管中心管理


@pytest.mark.django_db
def test_centre_screen_lists_schools_without_a_chief_first(centre, chief, school, authority):
    empty = SchoolFactory(authority=authority, code="000001")
    waiting = SchoolFactory(authority=authority, code="000002")
    applicant = pending(waiting, CHIEF)
    response = signed_in_client(centre).get(reverse("accounts:centre-chiefs"))
    schools = list(response.context["page"])
    assert schools.index(empty) < schools.index(school)
    assert schools.index(waiting) < schools.index(school)
    html = response.content.decode()
    assert "尚無啟用中的總負責人" in html
    assert reverse("accounts:enable", args=[applicant.pk]) in html


@pytest.mark.django_db
def test_centre_screen_shows_only_its_own_schools(other_centre, chief):
    html = signed_in_client(other_centre).get(reverse("accounts:centre-chiefs")).content.decode()
    assert chief.username not in html


@pytest.mark.django_db
def test_operator_screen_lists_non_school_accounts_only(operator, university, chief):
    clerk = pending(university, CLERK)
    html = signed_in_client(operator).get(reverse("accounts:operator-accounts")).content.decode()
    assert clerk.username in html
    assert chief.username not in html


# 業務帳號查詢 -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_directory_lists_chiefs_and_contacts_but_never_clerks(client, chief, contact, clerk, school):
    applicant = pending(school, CONTACT)
    response = client.get(reverse("accounts:directory"), {"q": school.code})
    html = response.content.decode()
    assert chief.business_account.person.masked_name in html
    assert contact.email in html
    assert clerk.email not in html
    assert applicant.user.email not in html
    for account in (chief, contact):
        assert account.person.reveal_national_id() not in html


@pytest.mark.django_db
def test_directory_searches_by_unit_name_and_authority(client, chief, other_chief, school, other_school):
    html = client.get(reverse("accounts:directory"), {"q": school.name}).content.decode()
    assert chief.email in html and other_chief.email not in html
    html = client.get(reverse("accounts:directory"), {"authority": school.authority.code}).content.decode()
    assert chief.email in html and other_chief.email in html


@pytest.mark.django_db
def test_directory_without_criteria_asks_for_a_search(client, chief):
    html = client.get(reverse("accounts:directory")).content.decode()
    assert "請輸入單位名稱或代碼" in html
    assert chief.email not in html


@pytest.mark.django_db
def test_directory_says_when_nothing_matches(client, chief):
    html = client.get(reverse("accounts:directory"), {"q": "不存在的學校"}).content.decode()
    assert "查無符合的業務帳號" in html


# Second factor ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enabled_applicant_must_set_up_a_second_factor_before_business_pages(client, chief, school):
    client.post(reverse("accounts:apply"), apply_data(school))
    account = BusinessAccount.objects.get(username="applicant")
    post(chief, "enable", account)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=account.user).update(verified=True)
    client.post(reverse("account_login"), {"login": "applicant", "password": "a-long-enough-secret"})
    assert client.session["_auth_user_id"] == str(account.user.pk)
    response = client.get("/unit/courses/")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.django_db
def test_person_model_keeps_one_row_per_id(client, chief, school):
    client.post(reverse("accounts:apply"), apply_data(school))
    assert not Person.objects.by_national_id(valid_national_id(9001)).exists()
    post(chief, "enable", BusinessAccount.objects.get(username="applicant"))
    assert Person.objects.by_national_id(valid_national_id(9001)).count() == 1


@pytest.mark.django_db
def test_operator_reaches_the_admin_but_business_accounts_are_read_only_there(operator, chief):
    client = signed_in_client(operator)
    assert client.get(reverse("admin:accounts_unit_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_businessaccount_changelist")).status_code == 200
    account = chief.business_account
    response = client.post(
        reverse("admin:accounts_businessaccount_delete", args=[account.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert snapshot(account)[0] == ACTIVE
    assert signed_in_client(chief).get(reverse("admin:index"), follow=True).status_code == 403
