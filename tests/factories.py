"""Factories for the test suite (factory_boy)."""

import datetime as dt

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from accounts import national_id
from accounts.models import (
    BusinessAccount,
    BusinessAccountStatus,
    BusinessAccountType,
    Person,
    Stage,
    Unit,
    UnitKind,
    User,
)
from teachers.models import Category, EndReason, Membership

PASSWORD = "correct-horse-battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def valid_national_id(n: int, letter: str = "A", gender: str = "1") -> str:
    return national_id.with_check_digit(f"{letter}{gender}{n:07d}")


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ["code"]

    code = "10013"
    name = "屏東縣"
    kind = UnitKind.AUTHORITY


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"9{n:05d}")
    name = factory.Sequence(lambda n: f"測試國民小學{n}")
    kind = UnitKind.SCHOOL
    stage = Stage.PRIMARY
    authority = factory.SubFactory(AuthorityFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"測試人員{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    national_id_value = factory.Sequence(lambda n: valid_national_id(n + 1000))

    @classmethod
    def _create(cls, model_class, *args, national_id_value, **kwargs):
        person = model_class(*args, **kwargs)
        person.set_national_id(national_id_value)
        person.save()
        return person


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    unit = factory.SubFactory(SchoolFactory)
    category = Category.TEACHER
    title = "教師"
    start_date = dt.date(2020, 8, 1)
    end_date = None
    # An ended membership carries a reason (a check constraint ties the two).
    end_reason = factory.LazyAttribute(lambda m: EndReason.LEFT if m.end_date else None)

    @factory.post_generation
    def email_from_unit(self, create, extracted, **kwargs):
        """As if the unit's roster wrote the person's address (teachers.trust): a current
        membership vouches for an address nobody vouches for yet. `email_from_unit=False` leaves
        the address untrusted."""
        person = self.person
        if create and extracted is not False and self.end_date is None and person.email:
            if person.email_unit_id is None:
                person.email_unit = self.unit
                person.save(update_fields=["email_unit"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    person = factory.SubFactory(PersonFactory)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


class BusinessAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessAccount
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    person = factory.LazyAttribute(lambda o: o.user.person)
    unit = factory.SubFactory(SchoolFactory)
    type = BusinessAccountType.CHIEF
    status = BusinessAccountStatus.ACTIVE
    enabled_at = factory.LazyFunction(timezone.now)
    username = factory.LazyAttribute(lambda o: o.user.username)

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        # Business accounts sign in with a second factor; enrol one unless told not to.
        if create and extracted is not False:
            if not Authenticator.objects.filter(user=obj.user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(obj.user, TOTP_SECRET)
