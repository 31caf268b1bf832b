import pytest
from django.core.management import call_command

from accounts import permissions
from accounts.models import Person, User
from inservice.demo import DEMO_PASSWORD
from teachers.models import Membership

ROLES = {
    "teacher1": permissions.Role.TEACHER,
    "chief1": permissions.Role.CHIEF,
    "contact1": permissions.Role.CONTACT,
    "clerk1": permissions.Role.CLERK,
    "region1": permissions.Role.CENTRE,
    "operator1": permissions.Role.OPERATOR,
}


@pytest.mark.django_db
def test_seed_demo_builds_one_account_per_role_and_is_idempotent():
    call_command("seed_demo")
    counts = (User.objects.count(), Person.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Person.objects.count(), Membership.objects.count()) == counts
    users = {username: User.objects.get(username=username) for username in ROLES}
    assert all(user.check_password(DEMO_PASSWORD) for user in users.values())
    assert {username: permissions.role_of(user) for username, user in users.items()} == ROLES


@pytest.mark.django_db
def test_demo_has_teachers_with_and_without_accounts_and_a_service_history():
    call_command("seed_demo")
    without_account = Person.objects.filter(users__isnull=True, memberships__end_date__isnull=True).distinct()
    assert without_account.count() >= 5
    moved = Person.objects.filter(memberships__end_date__isnull=False).distinct()
    assert any(p.memberships.count() == 2 for p in moved)
    stages = set(Membership.objects.current().values_list("unit__stage", flat=True))
    assert {"國小", "國中", "高中", "幼兒園"} <= stages


@pytest.mark.django_db
def test_demo_business_account_signs_in_with_the_readme_secret(client):

    from inservice.demo import DEMO_TOTP_SECRET
    from tests.helpers import sign_in

    call_command("seed_demo")
    sign_in(client, "chief1", DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    assert client.session["_auth_user_id"] == str(User.objects.get(username="chief1").pk)
