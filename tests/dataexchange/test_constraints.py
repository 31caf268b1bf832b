"""The accounts tables hold their own rules: the importers write through raw SQL, past the ORM's
choices, so a unit or business account the rules forbid must fail at the database."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import BusinessAccount, Unit, UnitKind
from tests.factories import BusinessAccountFactory, SchoolFactory

pytestmark = pytest.mark.django_db


def _refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def test_a_unit_kind_outside_the_choices_is_refused(authority):
    _refused(Unit.objects.filter(pk=authority.pk), kind="district")
    assert Unit.objects.get(pk=authority.pk).kind == UnitKind.AUTHORITY


def test_a_school_stage_outside_the_choices_is_refused(authority):
    school = SchoolFactory(authority=authority)
    _refused(Unit.objects.filter(pk=school.pk), stage="大學")
    Unit.objects.filter(pk=school.pk).update(stage="國中")  # a listed stage is fine


def test_only_schools_have_a_stage(authority):
    _refused(Unit.objects.filter(pk=authority.pk), stage="國中")


def test_an_authority_has_no_authority(authority):
    other = Unit.objects.create(code="99002", name="另一主管機關", kind=UnitKind.AUTHORITY)
    _refused(Unit.objects.filter(pk=other.pk), authority=authority)
    university = Unit.objects.create(code="U9", name="大學", kind=UnitKind.UNIVERSITY)
    Unit.objects.filter(pk=university.pk).update(authority=authority)  # other kinds may


def test_a_business_account_type_outside_the_choices_is_refused(school):
    account = BusinessAccountFactory(unit=school)
    _refused(BusinessAccount.objects.filter(pk=account.pk), type="boss")


def test_a_business_account_status_outside_the_choices_is_refused(school):
    account = BusinessAccountFactory(unit=school)
    _refused(BusinessAccount.objects.filter(pk=account.pk), status="suspended")
