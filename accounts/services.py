"""Write use-cases of business accounts (業務帳號), SPEC §3.2 and attachment 二 of the notice."""

from allauth.account.models import EmailAddress
from auditlog.context import set_actor
from django.contrib.auth.hashers import make_password
from django.db import transaction
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

MSG_FORBIDDEN = _("您沒有管理此業務帳號的權限。")
MSG_NOT_PENDING = _("此業務帳號不是待啟用狀態。")
MSG_TYPE_NOT_ALLOWED = _("此單位不能申請這種業務帳號類型（大專校院、法人及社教機構僅提供作業人員）。")
MSG_SAME_TYPE = _("帳號類型沒有變更。")
MSG_LAST_CHIEF = _("每所學校至少須保留一位總負責人；請先由區管中心啟用另一位總負責人。")
MSG_UNFINISHED_COURSES = _("此業務帳號登錄的課程尚未全部「名單確認通過」，不能刪除：")
MSG_ALREADY_HAS_ACCOUNT = _(
    "此身分證字號已有業務帳號（每人限一組）；如需改到新單位，請先由原單位刪除舊帳號。"
)
MSG_USERNAME_TAKEN = _("此使用者帳號已被使用，請換一個。")
MSG_EMAIL_TAKEN = _("此電子郵件已被其他帳號使用。")
MSG_NAME_MISMATCH = _("姓名與本網站登錄的資料不符，請確認後再申請。")
MSG_UNIT_NOT_OPEN = _("此單位不受理業務帳號申請。")


class BusinessAccountError(Exception):
    """A rule refused the action; the message is what the user reads."""

    def __init__(self, message, details: list[str] | None = None):
        super().__init__(str(message))
        self.message = message
        self.details = details or []


def _require_manager(actor: User, *, unit: Unit, account_type: str) -> None:
    if not permissions.may_manage_business_account(actor, unit=unit, account_type=account_type):
        raise BusinessAccountError(MSG_FORBIDDEN)


def _lock(account: BusinessAccount) -> BusinessAccount:
    return BusinessAccount.objects.select_for_update().select_related("unit", "user").get(pk=account.pk)


def _would_leave_school_without_chief(account: BusinessAccount) -> bool:
    """Rule 3: the last active 總負責人 of a K-12 school may not go."""
    if (
        account.unit.kind != UnitKind.SCHOOL
        or account.type != BusinessAccountType.CHIEF
        or not account.is_active
    ):
        return False
    # Lock the school's active chiefs, so two concurrent removals cannot both see "another one left".
    chiefs = list(
        BusinessAccount.objects.select_for_update()
        .filter(unit=account.unit, type=BusinessAccountType.CHIEF, status=BusinessAccountStatus.ACTIVE)
        .values_list("pk", flat=True)
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
        raise BusinessAccountError(MSG_UNIT_NOT_OPEN)
    if account_type not in permissions.business_account_types_for(unit):
        raise BusinessAccountError(MSG_TYPE_NOT_ALLOWED)
    person = Person.objects.select_for_update().by_national_id(national_id).first()
    if person is not None:
        if person.name != name:
            raise BusinessAccountError(MSG_NAME_MISMATCH)
        if person.business_accounts.live().exists():
            raise BusinessAccountError(MSG_ALREADY_HAS_ACCOUNT)
    # Rule 6: a deleted account's name was freed at deletion, so its former holder may take it
    # again as long as nobody else has.
    if User.objects.filter(username__iexact=username).exists():
        raise BusinessAccountError(MSG_USERNAME_TAKEN)
    if EmailAddress.objects.filter(email__iexact=email).exists():
        raise BusinessAccountError(MSG_EMAIL_TAKEN)
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
        raise BusinessAccountError(MSG_NOT_PENDING)
    with set_actor(actor):
        account.status = BusinessAccountStatus.ACTIVE
        account.enabled_at = timezone.now()
        account.save(update_fields=["status", "enabled_at"])
        account.user.is_active = True
        account.user.save(update_fields=["is_active"])
    return account


@transaction.atomic
def business_account_change_type(*, actor: User, account: BusinessAccount, new_type: str) -> BusinessAccount:
    """Rule 2 for changes: to or from a school's 總負責人 only by the centre (accounts.permissions)."""
    account = _lock(account)
    _require_manager(actor, unit=account.unit, account_type=account.type)
    if not permissions.may_change_business_account_type(
        actor, unit=account.unit, old_type=account.type, new_type=new_type
    ):
        raise BusinessAccountError(MSG_FORBIDDEN)
    if new_type not in permissions.business_account_types_for(account.unit):
        raise BusinessAccountError(MSG_TYPE_NOT_ALLOWED)
    if new_type == account.type:
        raise BusinessAccountError(MSG_SAME_TYPE)
    if _would_leave_school_without_chief(account):
        raise BusinessAccountError(MSG_LAST_CHIEF)
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
        raise BusinessAccountError(MSG_FORBIDDEN)
    if _would_leave_school_without_chief(account):
        raise BusinessAccountError(MSG_LAST_CHIEF)
    unfinished = deletion_guards.unfinished_work(account)
    if unfinished:
        raise BusinessAccountError(MSG_UNFINISHED_COURSES, details=unfinished)
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
