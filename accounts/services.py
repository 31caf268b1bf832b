"""Write use-cases of business accounts (業務帳號), SPEC §3.2 and attachment 二 of the notice."""

from allauth.account.models import EmailAddress
from auditlog.context import set_actor
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import deletion_guards, permissions
from accounts.models import (
    BusinessAccount,
    BusinessAccountStatus,
    BusinessAccountType,
    Person,
    Unit,
    UnitKind,
    User,
)


class Refusal(models.TextChoices):
    """Why a rule refused an action: views branch on the code, the user reads the label."""

    FORBIDDEN = "forbidden", _("您沒有管理此業務帳號的權限。")
    NOT_PENDING = "not_pending", _("此業務帳號不是待啟用狀態。")
    TYPE_NOT_ALLOWED = (
        "type_not_allowed",
        _("此單位不能申請這種業務帳號類型（大專校院、法人及社教機構僅提供作業人員）。"),
    )
    SAME_TYPE = "same_type", _("帳號類型沒有變更。")
    LAST_CHIEF = "last_chief", _("每所學校至少須保留一位總負責人；請先由區管中心啟用另一位總負責人。")
    UNFINISHED_COURSES = "unfinished_courses", _("此業務帳號登錄的課程尚未全部「名單確認通過」，不能刪除：")
    ALREADY_HAS_ACCOUNT = (
        "already_has_account",
        _("此身分證字號已有業務帳號（每人限一組）；如需改到新單位，請先由原單位刪除舊帳號。"),
    )
    USERNAME_TAKEN = "username_taken", _("此使用者帳號已被使用，請換一個。")
    EMAIL_TAKEN = "email_taken", _("此電子郵件已被其他帳號使用。")
    NAME_MISMATCH = "name_mismatch", _("姓名與本網站登錄的資料不符，請確認後再申請。")
    UNIT_NOT_OPEN = "unit_not_open", _("此單位不受理業務帳號申請。")


class BusinessAccountError(Exception):
    """A rule refused the action: `code` says which rule, `message` is what the user reads."""

    def __init__(self, code: Refusal, details: list[str] | None = None):
        self.code = Refusal(code)
        self.message = self.code.label
        self.details = details or []
        super().__init__(self.code.value)


def _require_manager(actor: User, *, unit: Unit, account_type: str) -> None:
    if not permissions.may_manage_business_account(actor, unit=unit, account_type=account_type):
        raise BusinessAccountError(Refusal.FORBIDDEN)


def _lock(account: BusinessAccount) -> BusinessAccount:
    """Lock the account's unit, then the account (and its user). Every change to a unit's business
    accounts queues on the one unit row first, so two changes at one school run one after the other:
    rule 3's count of active 總負責人 stays true, and two removals never deadlock on each other's rows
    (locking the account first and the school's chiefs second did, one request failing with a 500)."""
    Unit.objects.select_for_update().only("pk").get(pk=account.unit_id)
    return (
        BusinessAccount.objects.select_for_update(of=("self", "user"))
        .select_related("unit", "user")
        .get(pk=account.pk)
    )


def _would_leave_school_without_chief(account: BusinessAccount) -> bool:
    """Rule 3: the last active 總負責人 of a K-12 school may not go."""
    if (
        account.unit.kind != UnitKind.SCHOOL
        or account.type != BusinessAccountType.CHIEF
        or not account.is_active
    ):
        return False
    # The unit is locked (_lock), so no other change at this school can add or remove a chief meanwhile.
    chiefs = list(
        BusinessAccount.objects.filter(
            unit=account.unit, type=BusinessAccountType.CHIEF, status=BusinessAccountStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    return chiefs == [account.pk]


@transaction.atomic
def business_account_apply(
    *,
    unit: Unit,
    account_type: str,
    national_id: str,
    name: str,
    email: str,
    phone: str,
    username: str,
    password: str,
) -> BusinessAccount:
    """Rule 4: an application is pending until the responsible manager enables it."""
    if unit.kind == UnitKind.OPERATOR:
        raise BusinessAccountError(Refusal.UNIT_NOT_OPEN)
    if account_type not in permissions.business_account_types_for(unit):
        raise BusinessAccountError(Refusal.TYPE_NOT_ALLOWED)
    person = Person.objects.select_for_update().by_national_id(national_id).first()
    if person is not None:
        if person.name != name:
            raise BusinessAccountError(Refusal.NAME_MISMATCH)
        if person.business_accounts.live().exists():
            raise BusinessAccountError(Refusal.ALREADY_HAS_ACCOUNT)
    # Rule 6: a deleted account's name was freed at deletion, so its former holder may take it
    # again as long as nobody else has.
    if User.objects.filter(username__iexact=username).exists():
        raise BusinessAccountError(Refusal.USERNAME_TAKEN)
    if EmailAddress.objects.filter(email__iexact=email).exists():
        raise BusinessAccountError(Refusal.EMAIL_TAKEN)
    if person is None:
        person = Person(name=name, email=email)
        person.set_national_id(national_id)
        person.save()
    user = User.objects.create(
        username=username, email=email, password=make_password(password), person=person, is_active=False
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    return BusinessAccount.objects.create(
        user=user, person=person, unit=unit, type=account_type, phone=phone, username=username
    )


@transaction.atomic
def business_account_enable(*, actor: User, account: BusinessAccount) -> BusinessAccount:
    account = _lock(account)
    _require_manager(actor, unit=account.unit, account_type=account.type)
    if not account.is_pending:
        raise BusinessAccountError(Refusal.NOT_PENDING)
    with set_actor(actor):
        account.status = BusinessAccountStatus.ACTIVE
        account.enabled_at = timezone.now()
        account.save(update_fields=["status", "enabled_at"])
        account.user.is_active = True
        account.user.save(update_fields=["is_active"])
    return account


@transaction.atomic
def business_account_change_type(*, actor: User, account: BusinessAccount, new_type: str) -> BusinessAccount:
    """Rule 2 for changes: the new types are decided once, by permissions.business_account_new_types."""
    account = _lock(account)
    _require_manager(actor, unit=account.unit, account_type=account.type)
    if new_type == account.type:
        raise BusinessAccountError(Refusal.SAME_TYPE)
    if new_type not in permissions.business_account_new_types(
        actor, unit=account.unit, old_type=account.type
    ):
        # Which message: the unit cannot hold the type at all (rule 1), or this actor may not make it (rule 2).
        unit_holds_it = new_type in permissions.business_account_types_for(account.unit)
        raise BusinessAccountError(Refusal.FORBIDDEN if unit_holds_it else Refusal.TYPE_NOT_ALLOWED)
    if _would_leave_school_without_chief(account):
        raise BusinessAccountError(Refusal.LAST_CHIEF)
    with set_actor(actor):
        account.type = new_type
        account.save(update_fields=["type"])
    return account


@transaction.atomic
def business_account_delete(*, actor: User, account: BusinessAccount) -> BusinessAccount:
    """Rules 3, 5 and 6: the row stays as history; the sign-in is closed and its name freed."""
    account = _lock(account)
    _require_manager(actor, unit=account.unit, account_type=account.type)
    if account.status == BusinessAccountStatus.DELETED:
        raise BusinessAccountError(Refusal.FORBIDDEN)
    if _would_leave_school_without_chief(account):
        raise BusinessAccountError(Refusal.LAST_CHIEF)
    unfinished = deletion_guards.unfinished_work(account)
    if unfinished:
        raise BusinessAccountError(Refusal.UNFINISHED_COURSES, details=unfinished)
    with set_actor(actor):
        account.status = BusinessAccountStatus.DELETED
        account.deleted_at = timezone.now()
        account.save(update_fields=["status", "deleted_at"])
        user = account.user
        user.is_active = False
        user.username = f"deleted-{account.pk}"
        user.email = ""
        user.save(update_fields=["is_active", "username", "email"])
        EmailAddress.objects.filter(user=user).delete()
    return account
