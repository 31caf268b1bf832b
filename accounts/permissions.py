"""The single source of who may do what (SPEC §3.2 and §1).

Menus, views, services and selectors all ask this module; nothing else names a role. The matrix
is data: ROLE_PERMISSIONS maps each role to its permissions, and the object rules below decide
which unit's things an account may touch. Each object rule is written once, as data, and read
two ways: as a `Q` for the selectors and as a predicate for one object (see MANAGES).
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import CLERK_ONLY_KINDS, BusinessAccount, BusinessAccountType, Unit, UnitKind
from core.refusals import Kind


class Role(models.TextChoices):
    """A user's one role; the label is what the header shows beside the name."""

    TEACHER = "teacher", _("教師")  # 教師個人帳號
    CHIEF = "chief", _("總負責人")
    CONTACT = "contact", _("連絡人")
    CLERK = "clerk", _("作業人員")
    CENTRE = "centre", _("區管中心")  # the competent authority's account
    OPERATOR = "operator", _("教師進修網管理者")


class Perm(StrEnum):
    PROFILE_EDIT = "profile_edit"  # 修改個人基本資料
    LEARNING_RECORD = "learning_record"  # 研習紀錄
    TEACHER_PLAN = "teacher_plan"  # 教師自我進修規劃
    REWARD_LOOKUP = "reward_lookup"  # 獎勵查詢 (own result)
    COURSE_REGISTER = "course_register"  # 研習課程登錄作業
    COURSE_MANAGE = "course_manage"  # 研習課程管理 / 資料上傳
    UNIT_BUSINESS_ACCOUNTS = "unit_business_accounts"  # 本單位業務帳號管理
    UNIT_TEACHER_ACCOUNTS = "unit_teacher_accounts"  # 本單位教師帳號管理, 教師資料登錄
    STATISTICS_CHARTS = "statistics_charts"  # 統計圖表
    SCHOOL_PLAN = "school_plan"  # 學校本位進修規劃
    LISTED_IN_DIRECTORY = "listed_in_directory"  # shown in 業務帳號查詢
    CENTRE_CHIEF_MANAGEMENT = "centre_chief_management"  # 總負責人管理
    CENTRE_ROSTER_COUNTS = "centre_roster_counts"  # each school's 本單位教師帳號管理 counts, read only
    FILL_RATES = "fill_rates"  # 填報率
    REWARD_LISTS = "reward_lists"  # a unit's or an authority's reward lists
    REWARD_JOB = "reward_job"  # 獎勵作業
    OPERATOR_ADMIN = "operator_admin"  # the Django admin: units, cycles, operator accounts
    OPERATOR_ACCOUNTS = "operator_accounts"  # accounts of 大專校院, 法人, 社教機構 and the centres
    AUDIT_LOG = "audit_log"  # 業務帳號異動紀錄
    COURSE_ENROL = "course_enrol"  # 報名研習課程 (a teacher, for themself)
    HOURS_CORRECTION_APPROVE = "hours_correction_approve"  # 核定研習時數更正 (the course's authority)
    ANNOUNCE = "announce"  # 最新消息: publish, edit and withdraw the own unit's items
    SCHOOL_PLAN_READ = "school_plan_read"  # read the school plans of the units in scope
    PLAN_REOPEN = "plan_reopen"  # 退回修改 of a school plan in scope while its window is open
    PLAN_EXTEND = "plan_extend"  # 退回修改 of any plan, teacher plans too, with an extension after the window
    STATISTICS_PUBLISH = "statistics_publish"  # 統計專區: publish and withdraw a cycle's statistics


_BUSINESS_ALL = {Perm.COURSE_REGISTER, Perm.COURSE_MANAGE, Perm.STATISTICS_CHARTS}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.TEACHER: frozenset(
        {Perm.PROFILE_EDIT, Perm.LEARNING_RECORD, Perm.TEACHER_PLAN, Perm.REWARD_LOOKUP, Perm.COURSE_ENROL}
    ),
    # Attachment 二 of the notice, column by column.
    Role.CHIEF: frozenset(
        _BUSINESS_ALL
        | {
            Perm.UNIT_BUSINESS_ACCOUNTS,
            Perm.UNIT_TEACHER_ACCOUNTS,
            Perm.SCHOOL_PLAN,
            Perm.SCHOOL_PLAN_READ,
            Perm.LISTED_IN_DIRECTORY,
            Perm.REWARD_LISTS,
        }
    ),
    Role.CONTACT: frozenset(
        _BUSINESS_ALL
        | {
            Perm.UNIT_TEACHER_ACCOUNTS,
            Perm.SCHOOL_PLAN,
            Perm.SCHOOL_PLAN_READ,
            Perm.LISTED_IN_DIRECTORY,
            Perm.REWARD_LISTS,
        }
    ),
    Role.CLERK: frozenset(_BUSINESS_ALL),
    Role.CENTRE: frozenset(
        {
            Perm.CENTRE_CHIEF_MANAGEMENT,
            Perm.CENTRE_ROSTER_COUNTS,
            Perm.FILL_RATES,
            Perm.REWARD_LISTS,
            Perm.HOURS_CORRECTION_APPROVE,
            Perm.STATISTICS_CHARTS,  # of the schools under the authority
            Perm.ANNOUNCE,  # to its own schools and their teachers
            Perm.SCHOOL_PLAN_READ,  # of the schools under the authority
            Perm.PLAN_REOPEN,  # of the schools under the authority, while the window is open
        }
    ),
    Role.OPERATOR: frozenset(
        {
            Perm.FILL_RATES,
            Perm.REWARD_JOB,
            Perm.OPERATOR_ADMIN,
            Perm.REWARD_LISTS,
            Perm.OPERATOR_ACCOUNTS,
            Perm.AUDIT_LOG,
            Perm.HOURS_CORRECTION_APPROVE,
            Perm.STATISTICS_CHARTS,  # nationwide
            Perm.ANNOUNCE,  # to everyone
            Perm.SCHOOL_PLAN_READ,
            Perm.PLAN_REOPEN,
            Perm.PLAN_EXTEND,
            Perm.STATISTICS_PUBLISH,
        }
    ),
}

# Roles that must sign in with a second factor before reaching any of their pages (SPEC §3.3, §9).
MFA_ROLES = frozenset({Role.CHIEF, Role.CONTACT, Role.CLERK, Role.CENTRE, Role.OPERATOR})

_TYPE_ROLE = {
    BusinessAccountType.CHIEF: Role.CHIEF,
    BusinessAccountType.CONTACT: Role.CONTACT,
    BusinessAccountType.CLERK: Role.CLERK,
}


def _business_account(user):
    """The user's business account in any state, or None.

    Read once per user object in one query with its unit (role_of asks for the unit's kind on every
    request), its person (the page header shows the name) and whether the user has a TOTP
    authenticator (has_totp, read by the second-factor middleware), then kept in the user's relation
    cache, so user.business_account and user.person read the same objects.
    """
    user_field = BusinessAccount._meta.get_field("user")
    if not user_field.remote_field.is_cached(user):
        totp = Authenticator.objects.filter(user_id=OuterRef("user_id"), type=Authenticator.Type.TOTP)
        account = (
            BusinessAccount.objects.select_related("unit", "person")
            .annotate(has_totp=Exists(totp))
            .filter(user_id=user.pk)
            .first()
        )
        user_field.remote_field.set_cached_value(user, account)
        if account is not None:
            user_field.set_cached_value(account, user)
            person_field = user_field.related_model._meta.get_field("person")
            if account.person_id and account.person_id == user.person_id and not person_field.is_cached(user):
                person_field.set_cached_value(user, account.person)
    try:
        return user.business_account
    except ObjectDoesNotExist:
        return None


# Types shown in the public 業務帳號查詢 directory: read off the matrix, not listed twice.
DIRECTORY_TYPES = tuple(
    account_type
    for account_type, role in _TYPE_ROLE.items()
    if Perm.LISTED_IN_DIRECTORY in ROLE_PERMISSIONS[role]
)


def active_business_account(user):
    """The user's enabled business account, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    account = _business_account(user)
    return account if account is not None and account.is_active else None


def role_of(user) -> Role | None:
    """A user has at most one role: the business account decides, otherwise the teacher account."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.OPERATOR
    account = active_business_account(user)
    if account is not None:
        if account.unit.kind == UnitKind.OPERATOR:
            return Role.OPERATOR
        if account.unit.kind == UnitKind.AUTHORITY:
            return Role.CENTRE
        return _TYPE_ROLE[account.type]
    if _business_account(user) is not None:
        # A pending business account is not a teacher account either.
        return None
    if user.person_id:
        return Role.TEACHER
    return None


def permissions_of(user) -> frozenset[Perm]:
    role = role_of(user)
    return ROLE_PERMISSIONS[role] if role else frozenset()


def has_perm(user, perm: Perm) -> bool:
    return perm in permissions_of(user)


def require(user, perm: Perm) -> None:
    """Raise PermissionDenied (HTTP 403) unless the user holds the permission."""
    if not has_perm(user, perm):
        raise PermissionDenied


def requires(perm: Perm):
    """View decorator: signed in (else to the sign-in page) and holding the permission (else 403)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def requires_mfa(user) -> bool:
    return role_of(user) in MFA_ROLES


def unit_of(user):
    """The unit a business account acts for, or None."""
    account = active_business_account(user)
    return account.unit if account else None


NATIONAL = _("全國")


@dataclass(frozen=True)
class UnitScope:
    """Which units' things an actor's permissions reach: every unit (the operator), an authority and
    the schools under it (a centre), or the account's own unit (every other business account).

    The scope narrows a permission, it never replaces it: ask `has_perm` (or a `ScopedPerm`) first.
    One rule read two ways: `q(field)` filters a queryset on a foreign key to Unit, `contains(unit)`
    tests one unit, so a list and a single object's check cannot disagree.
    """

    unit: Unit | None  # the actor's own unit; None and not everything: nothing at all
    everything: bool = False
    authority_wide: bool = False

    @property
    def level(self) -> str:
        """ "all", "authority", "unit" or "none": what a screen shows differently at each breadth."""
        if self.everything:
            return "all"
        if self.unit is None:
            return "none"
        return "authority" if self.authority_wide else "unit"

    @property
    def label(self) -> str:
        if self.everything:
            return str(NATIONAL)
        return self.unit.name if self.unit is not None else ""

    def q(self, field: str | None = None) -> Q:
        """A filter on the foreign key to Unit called `field` (None: on Unit itself)."""
        if self.everything:
            return Q()
        if self.unit is None:
            return Q(pk__in=[])
        own = Q(**{field or "pk": self.unit.pk})
        if self.authority_wide:
            own |= Q(**{f"{field}__authority" if field else "authority": self.unit.pk})
        return own

    def contains(self, unit) -> bool:
        if self.everything:
            return True
        if self.unit is None or unit is None:
            return False
        return unit.pk == self.unit.pk or (self.authority_wide and unit.authority_id == self.unit.pk)

    def contains_id(self, unit_id: int | None, *, authority_id=lambda: None) -> bool:
        """contains() for a unit known by its id; `authority_id` is asked only when the scope is
        authority-wide, so an own-unit check needs no query."""
        if self.everything:
            return True
        if self.unit is None or unit_id is None:
            return False
        return unit_id == self.unit.pk or (self.authority_wide and authority_id() == self.unit.pk)


def unit_scope(actor) -> UnitScope:
    """Operator: every unit; centre: its authority and the schools under it; other business
    accounts: their own unit; anyone else (teachers, signed out): no unit."""
    role = role_of(actor)
    if role == Role.OPERATOR:
        return UnitScope(None, everything=True)
    return UnitScope(unit_of(actor), authority_wide=role == Role.CENTRE)


@dataclass(frozen=True)
class ScopedPerm:
    """A permission narrowed by the unit scope to the objects whose `unit_field` (a path of foreign
    keys, "course__organiser") lies in the actor's scope. Read as a predicate for one object
    (`allows`) and as a queryset filter (`q`): one rule, written once."""

    perm: Perm
    unit_field: str

    def allows(self, actor, obj) -> bool:
        if not has_perm(actor, self.perm):
            return False
        *path, last = self.unit_field.split("__")
        for part in path:
            obj = getattr(obj, part)
        return unit_scope(actor).contains_id(
            getattr(obj, f"{last}_id"), authority_id=lambda: getattr(obj, last).authority_id
        )

    def denial(self, actor, obj) -> Kind | None:
        """Why `allows` says no, as the refusal's kind: FORBIDDEN without the permission, NOT_VISIBLE
        for an object outside the actor's scope (a list filtered by `q` never shows it: 404, no
        existence leak); None when allowed."""
        if not has_perm(actor, self.perm):
            return Kind.FORBIDDEN
        return None if self.allows(actor, obj) else Kind.NOT_VISIBLE

    def q(self, actor, prefix: str = "") -> Q:
        """Filter a queryset of the object's model (or, with `prefix`, a model pointing at it)."""
        if not has_perm(actor, self.perm):
            return Q(pk__in=[])
        return unit_scope(actor).q(f"{prefix}{self.unit_field}")


def business_account_types_for(unit) -> tuple[BusinessAccountType, ...]:
    """The account types a unit may hold (rule 1): clerks only outside K-12 schools."""
    if unit.kind == UnitKind.SCHOOL:
        return (BusinessAccountType.CHIEF, BusinessAccountType.CONTACT, BusinessAccountType.CLERK)
    if unit.kind in CLERK_ONLY_KINDS:
        return (BusinessAccountType.CLERK,)
    if unit.kind == UnitKind.AUTHORITY:
        # The regional centre's own accounts; the type carries no further meaning there.
        return (BusinessAccountType.CHIEF,)
    return ()


class Reach(StrEnum):
    """Where a business account's unit stands to the actor's own unit."""

    OWN_UNIT = "own_unit"
    UNDER_OWN_AUTHORITY = "under_own_authority"  # a school whose authority is the actor's unit
    ANYWHERE = "anywhere"


@dataclass(frozen=True)
class AccountRule:
    """Business accounts of `types`, at units of `unit_kinds`, within `reach` of the actor's unit."""

    role: Role
    reach: Reach
    unit_kinds: frozenset[str]
    types: frozenset[str]


_SCHOOL = frozenset({UnitKind.SCHOOL})
_NOT_SCHOOL = frozenset(UnitKind.values) - _SCHOOL
_CHIEF = frozenset({BusinessAccountType.CHIEF})
_BELOW_CHIEF = frozenset({BusinessAccountType.CONTACT, BusinessAccountType.CLERK})
_ALL_TYPES = frozenset(BusinessAccountType.values)

# Rule 2 of attachment 二: who enables, changes and deletes which business accounts. A K-12 school's
# 總負責人: its regional centre. Its 連絡人 and 作業人員: the school's own 總負責人. Every other unit's
# accounts (大專校院, 法人, 社教機構, the centres, the operator's own): the operator.
MANAGES: tuple[AccountRule, ...] = (
    AccountRule(Role.CENTRE, Reach.UNDER_OWN_AUTHORITY, _SCHOOL, _CHIEF),
    AccountRule(Role.CHIEF, Reach.OWN_UNIT, _SCHOOL, _BELOW_CHIEF),
    AccountRule(Role.OPERATOR, Reach.ANYWHERE, _NOT_SCHOOL, _ALL_TYPES),
)
# What a management screen shows: what the actor manages, and a 總負責人 also sees the school's other
# 總負責人 (managed by the centre: listed, but their actions answer 403). Anything else answers 404.
SEES: tuple[AccountRule, ...] = (*MANAGES, AccountRule(Role.CHIEF, Reach.OWN_UNIT, _SCHOOL, _CHIEF))


def _rules_of(actor, rules: tuple[AccountRule, ...]):
    """The actor's rules with the unit they are measured from (None only for the operator's ANYWHERE)."""
    role = role_of(actor)
    own = unit_of(actor)
    for rule in rules:
        if rule.role == role and (own is not None or rule.reach == Reach.ANYWHERE):
            yield rule, own


def _as_q(rule: AccountRule, own) -> Q:
    q = Q(unit__kind__in=rule.unit_kinds, type__in=rule.types)
    if rule.reach == Reach.OWN_UNIT:
        q &= Q(unit=own)
    elif rule.reach == Reach.UNDER_OWN_AUTHORITY:
        q &= Q(unit__authority=own)
    return q


def _holds(rule: AccountRule, own, *, unit, account_type: str) -> bool:
    if unit.kind not in rule.unit_kinds or account_type not in rule.types:
        return False
    if rule.reach == Reach.OWN_UNIT:
        return unit.pk == own.pk
    if rule.reach == Reach.UNDER_OWN_AUTHORITY:
        return unit.authority_id == own.pk
    return True


def business_account_scope(actor, *, manage: bool = False) -> Q:
    """The business accounts (a filter on BusinessAccount) the actor sees on a management screen, or
    with manage=True may enable, change and delete. The selectors filter with it; the predicates
    below read the same rules, so a list and a single object's check cannot disagree."""
    scope = Q(pk__in=[])
    for rule, own in _rules_of(actor, MANAGES if manage else SEES):
        scope |= _as_q(rule, own)
    return scope


def may_see_business_account(actor, *, unit, account_type: str) -> bool:
    return any(
        _holds(rule, own, unit=unit, account_type=account_type) for rule, own in _rules_of(actor, SEES)
    )


def may_manage_business_account(actor, *, unit, account_type: str) -> bool:
    """Rule 2: may the actor enable, change and delete an account of this type at this unit?"""
    return any(
        _holds(rule, own, unit=unit, account_type=account_type) for rule, own in _rules_of(actor, MANAGES)
    )


def may_manage_any_business_account(actor) -> bool:
    return any(True for _ in _rules_of(actor, MANAGES))


def business_account_new_types(actor, *, unit, old_type: str) -> tuple[str, ...]:
    """The types the actor may change an account to: the form offers exactly these, the service
    refuses any other. The actor must manage the account as it is, and the unit must be able to hold
    the new type (rule 1); making a 總負責人 is for whoever manages 總負責人 (the centre, rule 2), who
    may also unmake one, handing the account to the school's 總負責人."""
    if not may_manage_business_account(actor, unit=unit, account_type=old_type):
        return ()
    return tuple(
        new_type
        for new_type in business_account_types_for(unit)
        if new_type != old_type
        and (
            new_type != BusinessAccountType.CHIEF
            or may_manage_business_account(actor, unit=unit, account_type=new_type)
        )
    )
