"""Write use-cases of business accounts (業務帳號), SPEC §3.2 and attachment 二 of the notice."""

from allauth.account.models import EmailAddress
from auditlog.context import set_actor
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import applying, deletion_guards, permissions
from accounts import national_id as national_id_module
from accounts.models import (
    BusinessAccount,
    BusinessAccountStatus,
    BusinessAccountType,
    Person,
    Unit,
    UnitKind,
    User,
)
from core.refusals import Kind, Refused


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
    NAME_MISMATCH = "name_mismatch", _("申請人填寫的姓名與本網站名冊登錄的姓名不符。")
    UNIT_NOT_OPEN = "unit_not_open", _("此單位不受理業務帳號申請。")
    CANNOT_ENABLE = (
        "cannot_enable",
        _("此申請與本網站名冊的資料不符，不能啟用；請刪除此申請，並請申請人確認資料後重新申請："),
    )
    OWN_ACCOUNT = "own_account", _("不能刪除自己的帳號；請由另一位管理者處理。")
    LAST_OPERATOR = "last_operator", _("教師進修網至少須保留一個啟用中的管理帳號，不能刪除或降級最後一個。")


MAIL_SUBJECT_RECEIVED = _("【全國教師在職進修資訊網】業務帳號申請已收到")
MAIL_SUBJECT_NOT_RECORDED = _("【全國教師在職進修資訊網】業務帳號申請未能受理")


class BusinessAccountError(Refused):
    """core.refusals.Refused with its code from `Refusal` (the label is the message)."""

    def __init__(self, code: Refusal, details: list[str] | None = None):
        code = Refusal(code)
        super().__init__(
            code.label,
            code=code.value,
            kind=Kind.FORBIDDEN if code == Refusal.FORBIDDEN else Kind.CONFLICT,
            details=details,
        )
        self.code = code


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


def _taken(*, username: str, email: str) -> list[str]:
    """What stops an application from being recorded at all; told only to the given mailbox."""
    problems = []
    # Rule 6: a deleted account's name was freed at deletion, so its former holder may take it
    # again as long as nobody else has.
    if User.objects.filter(username__iexact=username).exists():
        problems.append(Refusal.USERNAME_TAKEN.label)
    if (
        EmailAddress.objects.filter(email__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    ):
        problems.append(Refusal.EMAIL_TAKEN.label)
    return problems


def _lock_active_operators() -> list[int]:
    return list(
        BusinessAccount.objects.select_for_update(of=("self",))
        .filter(unit__kind=UnitKind.OPERATOR, status=BusinessAccountStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _is_last_operator(account: BusinessAccount) -> bool:
    """Issue 9 point 11: the last active operator account may not go (nobody could reach the admin)."""
    if account.unit.kind != UnitKind.OPERATOR or not account.is_active:
        return False
    # Every active operator account is locked (business_account_delete), so two concurrent removals
    # cannot both see "another one left".
    others = [pk for pk in _lock_active_operators() if pk != account.pk]
    if others:
        return False
    return not User.objects.filter(is_active=True, is_superuser=True).exclude(pk=account.user_id).exists()


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
) -> BusinessAccount | None:
    """Rule 4: an application is pending until the responsible manager enables it.

    It never creates or changes roster data (the ID and the name stay on the application) and its
    outcome never depends on whose ID it is: the roster checks happen when the manager enables
    it (application_problems). A username or e-mail already in use is told to the given address
    only, and nothing is recorded (None).
    """
    if unit.kind == UnitKind.OPERATOR:
        raise BusinessAccountError(Refusal.UNIT_NOT_OPEN)
    if account_type not in permissions.business_account_types_for(unit):
        raise BusinessAccountError(Refusal.TYPE_NOT_ALLOWED)
    # Hash first, so an application that is not recorded takes as long as one that is.
    password_hash = make_password(password)
    taken = _taken(username=username, email=email)
    receipt = {"unit": unit, "account_type": BusinessAccountType(account_type).label, "username": username}
    if taken:
        applying.tell_applicant(
            email=email,
            subject=MAIL_SUBJECT_NOT_RECORDED,
            template="accounts/email/application_not_recorded.txt",
            context={**receipt, "problems": taken},
        )
        return None
    user = User.objects.create(username=username, email=email, password=password_hash, is_active=False)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    account = BusinessAccount.objects.create(
        user=user,
        unit=unit,
        type=account_type,
        phone=phone,
        username=username,
        applicant_name=name,
        applicant_national_id_digest=national_id_module.digest(national_id),
        applicant_national_id_encrypted=national_id_module.encrypt(national_id),
    )
    applying.tell_applicant(
        email=email,
        subject=MAIL_SUBJECT_RECEIVED,
        template="accounts/email/application_received.txt",
        context=receipt,
    )
    return account


def _applicant_digests(account: BusinessAccount) -> list[str]:
    """The applicant's ID under every look-up key: the stored digest may predate a re-keying."""
    if national_id_module.rekeying() and account.applicant_national_id_encrypted:
        return national_id_module.digests(national_id_module.decrypt(account.applicant_national_id_encrypted))
    return [account.applicant_national_id_digest]


def _roster_person(account: BusinessAccount, *, lock: bool = False) -> Person | None:
    people = Person.objects.select_for_update() if lock else Person.objects.all()
    return people.filter(national_id_digest__in=_applicant_digests(account)).first()


def application_problems(account: BusinessAccount, person: Person | None) -> list[str]:
    """Why a pending application may not be enabled, for the manager's eyes (never the applicant's page)."""
    if not account.is_pending or person is None:
        return []
    problems = []
    if account.person_id is None and person.name != account.applicant_name:
        problems.append(Refusal.NAME_MISMATCH.label)
    if person.business_accounts.live().exclude(pk=account.pk).exists():
        problems.append(Refusal.ALREADY_HAS_ACCOUNT.label)
    return problems


def application_problems_of(accounts) -> dict[int, list[str]]:
    """application_problems for a page of accounts in two queries (the management screens)."""
    pending = [a for a in accounts if a.is_pending and a.applicant_national_id_digest]
    if not pending:
        return {}
    wanted = {account.pk: _applicant_digests(account) for account in pending}
    people = {
        p.national_id_digest: p
        for p in Person.objects.filter(
            national_id_digest__in={d for digests in wanted.values() for d in digests}
        ).prefetch_related(
            Prefetch("business_accounts", queryset=BusinessAccount.objects.live(), to_attr="live_accounts")
        )
    }
    problems = {}
    for account in pending:
        person = next((people[d] for d in wanted[account.pk] if d in people), None)
        if person is None:
            continue
        found = []
        if person.name != account.applicant_name:
            found.append(Refusal.NAME_MISMATCH.label)
        if any(other.pk != account.pk for other in person.live_accounts):
            found.append(Refusal.ALREADY_HAS_ACCOUNT.label)
        if found:
            problems[account.pk] = found
    return problems


@transaction.atomic
def business_account_enable(*, actor: User, account: BusinessAccount) -> BusinessAccount:
    """Enable against the roster: the person of the applicant's ID, or a new one the manager vouches for."""
    account = _lock(account)
    _require_manager(actor, unit=account.unit, account_type=account.type)
    if not account.is_pending:
        raise BusinessAccountError(Refusal.NOT_PENDING)
    person = account.person or _roster_person(account, lock=True)
    problems = application_problems(account, person)
    if problems:
        raise BusinessAccountError(Refusal.CANNOT_ENABLE, details=[str(p) for p in problems])
    with set_actor(actor):
        if person is None:
            person = Person(
                name=account.applicant_name,
                email=account.user.email,
                national_id_digest=account.applicant_national_id_digest,
                national_id_encrypted=account.applicant_national_id_encrypted,
            )
            person.save()
        account.person = person
        account.status = BusinessAccountStatus.ACTIVE
        account.enabled_at = timezone.now()
        account.save(update_fields=["person", "status", "enabled_at"])
        user = account.user
        user.person = person
        user.is_active = True
        # Issue 8 point 3: the admin follows the role; an operator's account reaches it once enabled.
        if account.unit.kind == UnitKind.OPERATOR:
            user.is_staff = True
        user.save(update_fields=["person", "is_active", "is_staff"])
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
    if account.unit.kind == UnitKind.OPERATOR:
        # All operator accounts first, in one order, so that two operators removing each other
        # wait for one another instead of deadlocking (issue 9 point 11).
        _lock_active_operators()
    account = _lock(account)
    _require_manager(actor, unit=account.unit, account_type=account.type)
    if account.status == BusinessAccountStatus.DELETED:
        raise BusinessAccountError(Refusal.FORBIDDEN)
    if account.user_id == actor.pk:
        raise BusinessAccountError(Refusal.OWN_ACCOUNT)
    if _would_leave_school_without_chief(account):
        raise BusinessAccountError(Refusal.LAST_CHIEF)
    if _is_last_operator(account):
        raise BusinessAccountError(Refusal.LAST_OPERATOR)
    unfinished = deletion_guards.unfinished_work(account)
    if unfinished:
        raise BusinessAccountError(Refusal.UNFINISHED_COURSES, details=unfinished)
    with set_actor(actor):
        account.status = BusinessAccountStatus.DELETED
        account.deleted_at = timezone.now()
        account.save(update_fields=["status", "deleted_at"])
        user = account.user
        user.is_active = False
        # Issue 8 point 3: the admin follows the role, so a deleted operator loses it too.
        user.is_staff = False
        user.is_superuser = False
        user.username = f"deleted-{account.pk}"
        user.email = ""
        user.save(update_fields=["is_active", "is_staff", "is_superuser", "username", "email"])
        EmailAddress.objects.filter(user=user).delete()
    return account
