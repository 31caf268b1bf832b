"""accounts.permissions: the business-account scope is one set of rules read two ways (a Q and a
predicate); both readings are checked against rule 2 written out by hand, for every role."""

import pytest

from accounts import permissions
from accounts.models import BusinessAccount, BusinessAccountType
from tests.factories import BusinessAccountFactory

CHIEF, CONTACT, CLERK = BusinessAccountType.CHIEF, BusinessAccountType.CONTACT, BusinessAccountType.CLERK
UNITS = (
    "school",
    "other_school",
    "far_school",
    "university",
    "authority",
    "other_authority",
    "operator_unit",
)
NOT_SCHOOLS = ("university", "authority", "other_authority", "operator_unit")

# Rule 2 by hand: (unit, type) pairs each role manages, and what it sees besides.
MANAGED = {
    "teacher": set(),
    "contact": set(),
    "clerk": set(),
    "chief": {("school", CONTACT), ("school", CLERK)},
    "centre": {("school", CHIEF), ("other_school", CHIEF)},
    "operator": {(unit, kind) for unit in NOT_SCHOOLS for kind in (CHIEF, CONTACT, CLERK)},
}
SEEN_BESIDES = {"chief": {("school", CHIEF)}}


@pytest.fixture
def every_account(request):
    """One business account of each type at each kind of unit, near and far."""
    names = {}
    for name in UNITS:
        unit = request.getfixturevalue(name)
        for account_type in (CHIEF, CONTACT, CLERK):
            account = BusinessAccountFactory(unit=unit, type=account_type, totp=False)
            names[account.pk] = (name, account_type)
    return names


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(MANAGED))
def test_scope_and_predicate_follow_rule_2_for_every_role(request, every_account, role):
    actor = request.getfixturevalue(role)
    live = BusinessAccount.objects.filter(pk__in=every_account)
    managed = set(
        live.filter(permissions.business_account_scope(actor, manage=True)).values_list("pk", flat=True)
    )
    seen = set(live.filter(permissions.business_account_scope(actor)).values_list("pk", flat=True))

    assert {every_account[pk] for pk in managed} == MANAGED[role]
    assert {every_account[pk] for pk in seen} == MANAGED[role] | SEEN_BESIDES.get(role, set())
    for account in live.select_related("unit"):
        where = {"unit": account.unit, "account_type": account.type}
        assert permissions.may_manage_business_account(actor, **where) == (account.pk in managed), (
            every_account[account.pk]
        )
        assert permissions.may_see_business_account(actor, **where) == (account.pk in seen)
    assert permissions.may_manage_any_business_account(actor) == bool(MANAGED[role])


@pytest.mark.django_db
def test_pending_account_has_no_scope(school):
    pending = BusinessAccountFactory(unit=school, type=CHIEF, status="pending").user
    BusinessAccountFactory(unit=school, type=CONTACT)
    assert not BusinessAccount.objects.filter(permissions.business_account_scope(pending)).exists()
    assert not permissions.may_manage_any_business_account(pending)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "unit", "old_type", "new_types"),
    [
        ("chief", "school", CONTACT, (CLERK,)),  # never to 總負責人: that is the centre's
        ("chief", "school", CLERK, (CONTACT,)),
        ("chief", "school", CHIEF, ()),  # a fellow 總負責人 is the centre's
        ("centre", "school", CHIEF, (CONTACT, CLERK)),  # unmaking a 總負責人
        ("centre", "school", CONTACT, ()),  # the school's own 總負責人 manages its 連絡人
        ("operator", "university", CLERK, ()),  # 大專校院 hold only 作業人員
        ("contact", "school", CLERK, ()),
    ],
)
def test_new_types_of_a_type_change_are_decided_once(request, role, unit, old_type, new_types):
    actor = request.getfixturevalue(role)
    unit = request.getfixturevalue(unit)
    assert permissions.business_account_new_types(actor, unit=unit, old_type=old_type) == new_types
