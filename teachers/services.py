"""Write use-cases of the roster and teacher accounts (SPEC §3.1, §4; attachment 一 of the notice).

Every function takes keyword arguments, the acting user first, runs in one transaction, locks the
person's row where two writers could race, and raises RosterError with the message the user reads.
Every writer of a membership goes through `_open_membership` / `_close_membership`, which refuse an
overlap of two periods of one person (PostgreSQL's exclusion constraint backs this up; SQLite has
only this check). Later work (batch upload, SSO roaming, nightly feeds) reuses these services:
`person_transfer` and `membership_end` accept `actor=None` for a system source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from allauth.account.models import EmailAddress
from auditlog.context import set_actor
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import Person, Unit, User
from accounts.permissions import Perm
from core.refusals import Kind, Refused
from teachers import trust
from teachers.models import (
    MANAGER_END_REASONS,
    AccountStatus,
    ApplicationStatus,
    Category,
    EndReason,
    Membership,
    RosterDownload,
    Subject,
    TeacherAccount,
    TeacherApplication,
)

MSG_FORBIDDEN = _("您沒有管理此單位教師資料的權限。")
MSG_NOT_FOUND = _("找不到此教師資料。")
MSG_OVERLAP = _("此人員在這段期間已有其他服務紀錄，服務期間不能重疊。")
MSG_ALREADY_HERE = _("此教師已在本單位的教師名單中，不需要重新登錄。")
MSG_NAME_MISMATCH = _("姓名與本網站登錄的資料不符，請確認後再登錄；如需更正姓名，請洽教師進修網。")
MSG_START_IN_FUTURE = _("到職日期不可晚於今天。")
MSG_START_BEFORE_PREVIOUS = _("到職日期須晚於此教師在原服務單位的到職日期。")
MSG_START_TOO_EARLY = _(
    "轉入的到職日期最早只能是 %(days)s 天前。更早的異動會改寫原服務單位的紀錄，"
    "請洽教師進修網以「人員資料更正」處理。"
)
MSG_CONFIRM_MOVE = _(
    "此教師目前在其他單位服務。確認登錄後，會轉入本單位，原服務紀錄於到職日前一天以「轉校」結束。"
)
MSG_NOT_UNDOABLE = _(
    "這筆轉出不能由本單位撤銷：只有本單位於 %(days)s 天內以離職、轉校或退休轉出，且之後沒有其他單位登錄此教師，才能撤銷。"
)
MSG_END_IN_FUTURE = _("異動日期不可晚於今天。")
MSG_END_BEFORE_START = _("異動日期不可早於到職日期。")
MSG_NOT_CURRENT = _("此服務紀錄已經結束。")
MSG_BAD_REASON = _("請選擇離職、轉校或退休。")
MSG_NO_APPLICATION = _("此教師尚未申請教師帳號，請教師先至「申請教師帳號」頁面送出申請。")
MSG_ALREADY_ACTIVE = _("此教師帳號已是啟用中。")
MSG_NOT_ACTIVE = _("此教師帳號不是啟用中。")
MSG_USERNAME_TAKEN = _("申請的使用者帳號已被他人使用，請教師以另一個帳號名稱重新申請。")
MSG_EMAIL_TAKEN = _(
    "申請的電子郵件已被其他帳號使用（一個電子郵件只能用於一個帳號，包括業務帳號），請以另一個電子郵件重新申請。"
)
MSG_LINK_INVALID = _("啟用連結無效或已過期，請重新申請教師帳號。")
MSG_NOT_A_TEACHER = _("只有教師個人帳號可以修改個人基本資料。")
MSG_BAD_SUBJECT = _("任教科目須從清單中選擇。")
MSG_APPLICATION_NOT_MATCHING = _(
    "申請填寫的電子郵件與名冊登錄的電子郵件不同，不能批次啟用；請至「檢視資料」核對申請人後逐一確認啟用。"
)

ACTIVATION_SALT = "teachers.activate"
ACTIVATION_MAX_AGE = 3 * 24 * 3600  # the e-mailed link works for three days

# 申請教師帳號 throttles: accounts.applying with settings.ACCOUNT_RATE_LIMITS[APPLY_ACTION] (per client
# address, an hour) and [APPLY_ACTION + "_per_id"] (per national ID); the limits as numbers for tests.
APPLY_ACTION = "teacher_account_apply"
APPLY_LIMIT_PER_CLIENT = 10
APPLY_LIMIT_PER_ID = 3

SOURCE_MANAGER = "教師資料登錄"
# 教師資料登錄: how far back a move may start (older changes are the operator's 人員資料更正), and
# how long a unit may undo its own ending (離職/轉校/退休).
MOVE_MAX_DAYS_BACK = 30
UNDO_END_DAYS = 30


class RosterError(Refused):
    """core.refusals.Refused of the roster's rules: every raise names its rule (`code`); the kind is
    CONFLICT (409) unless it says otherwise."""

    def __init__(self, message, *, code: str, kind: Kind = Kind.CONFLICT, details=None):
        super().__init__(message, code=code, kind=kind, details=details)


class MoveNeedsConfirmation(RosterError):
    """教師資料登錄 of someone serving at another unit: ask first. Carries the masked name only, and
    only that the person serves elsewhere (not where)."""

    def __init__(self, masked_name: str):
        super().__init__(MSG_CONFIRM_MOVE, code="move_needs_confirmation")
        self.masked_name = masked_name


def _today() -> dt.date:
    return timezone.localdate()


# ------------------------------------------------------------------------------------------------
# Permission


def may_manage_roster(actor, unit: Unit | None) -> bool:
    """本單位教師帳號管理 and 教師資料登錄: the unit's own 總負責人 and 連絡人."""
    return _denial(actor, unit) is None


def _denial(actor, unit: Unit | None) -> Kind | None:
    """FORBIDDEN without 本單位教師帳號管理; NOT_VISIBLE for a unit outside the actor's scope (or
    none: a person serving nowhere now), whose teachers the actor's lists never show."""
    if not permissions.has_perm(actor, Perm.UNIT_TEACHER_ACCOUNTS):
        return Kind.FORBIDDEN
    if unit is None or not permissions.unit_scope(actor).contains(unit):
        return Kind.NOT_VISIBLE
    return None


def _require_manager(actor, unit: Unit | None) -> None:
    """The roster's guard: 403 without the permission, 404 for another unit's teachers (core.refusals)."""
    denial = _denial(actor, unit)
    if denial == Kind.FORBIDDEN:
        raise RosterError(MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)
    if denial == Kind.NOT_VISIBLE:
        raise RosterError(MSG_NOT_FOUND, code="not_found", kind=Kind.NOT_VISIBLE)


# ------------------------------------------------------------------------------------------------
# Memberships: the only writers


def _lock_person(person: Person) -> Person:
    return Person.objects.select_for_update().get(pk=person.pk)


def _check_no_overlap(person: Person, start: dt.date, end: dt.date | None, exclude_pk=None) -> None:
    if Membership.objects.overlapping(person=person, start=start, end=end, exclude_pk=exclude_pk).exists():
        raise RosterError(MSG_OVERLAP, code="membership_overlap")


def _open_membership(
    *,
    person: Person,
    unit: Unit,
    start: dt.date,
    category: str,
    title: str,
    subjects: Iterable[Subject],
    source: str,
) -> Membership:
    _check_no_overlap(person, start, None)
    membership = Membership.objects.create(
        person=person, unit=unit, start_date=start, category=category, title=title, source=source
    )
    membership.subjects.set(list(subjects))
    return membership


def _close_membership(membership: Membership, *, on: dt.date, reason: str) -> Membership:
    if membership.end_date is not None:
        raise RosterError(MSG_NOT_CURRENT, code="membership_ended")
    if on < membership.start_date:
        raise RosterError(MSG_END_BEFORE_START, code="end_before_start", kind=Kind.INVALID)
    _check_no_overlap(membership.person, membership.start_date, on, exclude_pk=membership.pk)
    membership.end_date = on
    membership.end_reason = reason
    membership.save(update_fields=["end_date", "end_reason"])
    return membership


@transaction.atomic
def person_transfer(
    *,
    person: Person,
    to_unit: Unit,
    on: dt.date,
    source: str,
    actor: User | None = None,
    category: str | None = None,
    title: str | None = None,
    subjects: Iterable[Subject] | None = None,
) -> Membership:
    """服務單位異動: the current membership ends the day before `on` with 轉校; a new one starts `on`.

    No permission check here: callers are a manager's service (checked there) or a system source
    (a nightly feed, an SSO roaming sign-in) named in `source`.
    """
    person = _lock_person(person)
    current = Membership.objects.select_for_update().filter(person=person, end_date__isnull=True).first()
    with set_actor(actor):
        if current is not None:
            if current.unit_id == to_unit.pk:
                raise RosterError(MSG_ALREADY_HERE, code="already_here")
            if on <= current.start_date:
                raise RosterError(MSG_START_BEFORE_PREVIOUS, code="start_before_previous")
            _close_membership(current, on=on - dt.timedelta(days=1), reason=EndReason.TRANSFERRED)
        if subjects is None:
            subjects = current.subjects.all() if current is not None else ()
        return _open_membership(
            person=person,
            unit=to_unit,
            start=on,
            category=category or (current.category if current else Category.TEACHER),
            title=title if title is not None else (current.title if current else ""),
            subjects=list(subjects),
            source=source,
        )


@transaction.atomic
def teacher_register(
    *,
    actor: User,
    unit: Unit,
    national_id: str,
    name: str,
    email: str = "",
    category: str = Category.TEACHER,
    title: str = "",
    subjects: Iterable[Subject] = (),
    start_date: dt.date,
    confirmed: bool = False,
) -> Membership:
    """教師資料登錄: a new person joins the roster; one serving elsewhere is moved here (轉校).

    A new person (unknown ID) is created with the name typed, recorded with the acting manager
    (the audit trail). An existing person's name is never changed: a different name is refused. A
    move needs `confirmed` (else MoveNeedsConfirmation, checked after the dates), starts after the
    old membership's start and at most MOVE_MAX_DAYS_BACK days back, and e-mails the old unit.
    Returns the new membership; `membership.moved_from` is the unit the person left, or None.
    """
    _require_manager(actor, unit)
    if start_date > _today():
        raise RosterError(MSG_START_IN_FUTURE, code="start_in_future", kind=Kind.INVALID)
    Person.objects.lock_national_id(national_id)  # before the look-up: see lock_national_id
    person = Person.objects.select_for_update().by_national_id(national_id).first()
    if person is None:
        person = Person(name=name)
        person.set_national_id(national_id)
        trust.person_email_set(person, email, unit=unit, save=False)
        with set_actor(actor):
            person.save()
    elif person.name != name:
        raise RosterError(MSG_NAME_MISMATCH, code="name_mismatch")
    # An existing person's e-mail is not this form's to write: they are outside the unit until
    # the move (teachers.trust); once here, 編輯帳號個人資料 may set it.
    current = person.memberships.filter(end_date__isnull=True).select_related("unit").first()
    if current is not None and current.unit_id == unit.pk:
        raise RosterError(MSG_ALREADY_HERE, code="already_here")
    if current is not None:
        if start_date <= current.start_date:
            raise RosterError(MSG_START_BEFORE_PREVIOUS, code="start_before_previous")
        if start_date < _today() - dt.timedelta(days=MOVE_MAX_DAYS_BACK):
            raise RosterError(
                MSG_START_TOO_EARLY % {"days": MOVE_MAX_DAYS_BACK}, code="start_too_early", kind=Kind.INVALID
            )
        if not confirmed:
            raise MoveNeedsConfirmation(person.masked_name)
    membership = person_transfer(
        person=person,
        to_unit=unit,
        on=start_date,
        source=SOURCE_MANAGER,
        actor=actor,
        category=category,
        title=title,
        subjects=subjects,
    )
    membership.moved_from = current.unit if current is not None else None
    if current is not None:
        _notify_old_unit(current.pk, membership.pk)
    return membership


def _notify_old_unit(old_membership_id: int, new_membership_id: int) -> None:
    """The unit a teacher was moved away from hears of it, once the move commits (teachers.mail)."""
    from teachers.tasks import send_moved_away_mail  # teachers.tasks imports this module (via mail)

    transaction.on_commit(lambda: send_moved_away_mail.delay(old_membership_id, new_membership_id))


def membership_end_check(*, actor: User | None, membership: Membership, reason: str, on: dt.date) -> None:
    """The rules of 離職/轉校/退休 that need no lock, so the page checks them before asking to confirm."""
    if actor is not None:
        _require_manager(actor, membership.unit)
        if reason not in MANAGER_END_REASONS:
            raise RosterError(MSG_BAD_REASON, code="bad_reason", kind=Kind.INVALID)
    elif reason not in EndReason.values:
        raise RosterError(MSG_BAD_REASON, code="bad_reason", kind=Kind.INVALID)
    if on > _today():
        raise RosterError(MSG_END_IN_FUTURE, code="end_in_future", kind=Kind.INVALID)
    if membership.end_date is not None:
        raise RosterError(MSG_NOT_CURRENT, code="membership_ended")
    if on < membership.start_date:
        raise RosterError(MSG_END_BEFORE_START, code="end_before_start", kind=Kind.INVALID)


@transaction.atomic
def membership_end(*, actor: User | None, membership: Membership, reason: str, on: dt.date) -> Membership:
    """離職/轉校/退休: the membership ends; the person leaves the roster, their history stays."""
    membership = Membership.objects.select_for_update().select_related("unit", "person").get(pk=membership.pk)
    membership_end_check(actor=actor, membership=membership, reason=reason, on=on)
    _lock_person(membership.person)
    with set_actor(actor):
        _close_membership(membership, on=on, reason=reason)
        if actor is not None:
            # Who ended it and when: the unit may undo its own recent ending (membership_end_undo).
            membership.ended_by, membership.ended_at = actor, timezone.now()
            membership.save(update_fields=["ended_by", "ended_at"])
        return membership


def undoable_endings(unit: Unit, *, now=None):
    """The unit's own recent endings it may still undo: ended by its manager (離職/轉校/退休) within
    UNDO_END_DAYS, and nobody has registered the person since (no later membership, none open)."""
    now = now or timezone.now()
    later = Membership.objects.filter(person=OuterRef("person"), start_date__gt=OuterRef("start_date"))
    open_now = Membership.objects.filter(person=OuterRef("person"), end_date__isnull=True)
    return (
        Membership.objects.filter(
            unit=unit,
            end_reason__in=MANAGER_END_REASONS,
            ended_by__isnull=False,
            ended_at__gte=now - dt.timedelta(days=UNDO_END_DAYS),
        )
        .exclude(Exists(later))
        .exclude(Exists(open_now))
        .select_related("person")
        .order_by("-ended_at")
    )


@transaction.atomic
def membership_end_undo(*, actor: User, membership: Membership) -> Membership:
    """撤銷轉出: the unit's own recent ending is taken back (recorded as 更正 in the audit trail); the
    membership is current again as if never ended."""
    membership = Membership.objects.select_for_update().select_related("unit", "person").get(pk=membership.pk)
    _require_manager(actor, membership.unit)
    _lock_person(membership.person)
    if not undoable_endings(membership.unit).filter(pk=membership.pk).exists():
        raise RosterError(MSG_NOT_UNDOABLE % {"days": UNDO_END_DAYS}, code="not_undoable")
    with set_actor(actor):
        membership.end_date = membership.end_reason = None
        membership.ended_by = membership.ended_at = None
        membership.audit_note = EndReason.CORRECTED
        membership.save(update_fields=["end_date", "end_reason", "ended_by", "ended_at"])
    return membership


def _valid_subjects(subjects: Iterable[Subject], unit: Unit) -> list[Subject]:
    subjects = list(subjects)
    allowed = set(
        Subject.objects.filter(pk__in=[s.pk for s in subjects], stages__contains=unit.stage).values_list(
            "pk", flat=True
        )
    )
    if any(s.pk not in allowed for s in subjects):
        raise RosterError(MSG_BAD_SUBJECT, code="bad_subject", kind=Kind.INVALID)
    return subjects


@transaction.atomic
def membership_update(
    *,
    actor: User,
    membership: Membership,
    category: str,
    title: str,
    subjects: Iterable[Subject],
    email: str,
) -> Membership:
    """編輯帳號個人資料 → 更新教師資料: the manager corrects category, 職稱, 任教科目 and the roster e-mail."""
    membership = Membership.objects.select_for_update().select_related("unit", "person").get(pk=membership.pk)
    _require_manager(actor, membership.unit)
    if membership.end_date is not None:
        raise RosterError(MSG_NOT_CURRENT, code="membership_ended")
    subjects = _valid_subjects(subjects, membership.unit)
    with set_actor(actor):
        membership.category = category
        membership.title = title
        membership.save(update_fields=["category", "title"])
        membership.subjects.set(subjects)
        # The unit serves this person now (a current membership of its own): its address is trusted.
        trust.person_email_set(membership.person, email, unit=membership.unit)
    return membership


@transaction.atomic
def own_profile_update(*, actor: User, title: str, subjects: Iterable[Subject]) -> Membership:
    """修改個人基本資料: the teacher's 職稱 and this semester's 任教科目 on their current membership."""
    if not permissions.has_perm(actor, Perm.PROFILE_EDIT) or not actor.person_id:
        raise RosterError(MSG_NOT_A_TEACHER, code="not_a_teacher", kind=Kind.FORBIDDEN)
    membership = (
        Membership.objects.select_for_update()
        .select_related("unit")
        .filter(person_id=actor.person_id, end_date__isnull=True)
        .first()
    )
    if membership is None:
        raise RosterError(MSG_NOT_CURRENT, code="membership_ended")
    subjects = _valid_subjects(subjects, membership.unit)
    with set_actor(actor):
        membership.title = title
        membership.save(update_fields=["title"])
        membership.subjects.set(subjects)
    return membership


# ------------------------------------------------------------------------------------------------
# Teacher accounts (帳號狀況 待申請 / 啟用中 / 停用中)


def _notify(kind: str, *, person_id: int, site: str, application_id: int | None = None) -> None:
    """Queue the e-mail once the transaction commits; the applicant's page never waits for it."""
    from teachers.tasks import send_application_mail  # teachers.tasks imports this module (via mail)

    transaction.on_commit(lambda: send_application_mail.delay(kind, person_id, site, application_id))


@transaction.atomic
def teacher_account_apply(
    *, national_id: str, name: str, username: str, email: str, password: str, site: str
) -> None:
    """申請教師帳號 (public). Returns nothing: the applicant sees the same page whatever happened.

    Nothing in the roster changes. An application is stored only for a person serving on a roster
    whose name matches; it takes no username or address until activated (no squatting). The e-mail,
    if any, goes to the address the roster holds for that person — never to the address typed here.
    """
    password_hash = make_password(password)  # always, so every outcome costs the same time
    person = Person.objects.select_for_update().by_national_id(national_id).first()
    if person is None or not person.memberships.filter(end_date__isnull=True).exists():
        return
    # Every mail goes to the trusted address only (teachers.trust): never one that a unit the
    # person does not serve wrote.
    has_trusted = bool(trust.trusted_address(person))
    if person.name != name:
        if has_trusted:
            _notify("mismatch", person_id=person.pk, site=site)
        return
    if TeacherAccount.objects.filter(person=person).exists():
        if has_trusted:
            _notify("has_account", person_id=person.pk, site=site)
        return
    person.teacher_applications.filter(status=ApplicationStatus.WAITING).update(
        status=ApplicationStatus.SUPERSEDED
    )
    application = TeacherApplication.objects.create(
        person=person, username=username, email=email, password=password_hash
    )
    if has_trusted:
        _notify("activate", person_id=person.pk, site=site, application_id=application.pk)


def teacher_application_discard(*, password: str) -> None:
    """An application past the per-ID limit: what an application costs (the password hash), and
    nothing stored or sent, so its answer is the same in time and content."""
    make_password(password)


def activation_token(application: TeacherApplication) -> str:
    return signing.dumps({"a": application.pk}, salt=ACTIVATION_SALT, compress=True)


def application_from_token(token: str) -> TeacherApplication:
    try:
        data = signing.loads(token, salt=ACTIVATION_SALT, max_age=ACTIVATION_MAX_AGE)
    except signing.BadSignature:
        raise RosterError(MSG_LINK_INVALID, code="link_invalid", kind=Kind.INVALID) from None
    application = (
        TeacherApplication.objects.select_related("person")
        .filter(pk=data.get("a"), status=ApplicationStatus.WAITING)
        .first()
    )
    if application is None:
        raise RosterError(MSG_LINK_INVALID, code="link_invalid", kind=Kind.INVALID)
    return application


def _account_from_application(
    application: TeacherApplication, *, enabled_by, verified: bool
) -> TeacherAccount:
    person = application.person
    if User.objects.filter(username__iexact=application.username).exists():
        raise RosterError(MSG_USERNAME_TAKEN, code="username_taken")
    if (
        EmailAddress.objects.filter(email__iexact=application.email).exists()
        or User.objects.filter(email__iexact=application.email).exists()
    ):
        raise RosterError(MSG_EMAIL_TAKEN, code="email_taken")
    user = User.objects.create(
        username=application.username,
        email=application.email,
        password=application.password,
        person=person,
        is_active=True,
    )
    EmailAddress.objects.create(user=user, email=application.email, primary=True, verified=verified)
    account = TeacherAccount.objects.create(
        person=person,
        user=user,
        status=AccountStatus.ACTIVE,
        enabled_at=timezone.now(),
        enabled_by=enabled_by,
    )
    application.status = ApplicationStatus.ACTIVATED
    application.save(update_fields=["status"])
    return account


@transaction.atomic
def teacher_account_activate(*, token: str) -> TeacherAccount:
    """The link e-mailed to the roster's address: following it proves the applicant reads that mail."""
    application = application_from_token(token)
    person = _lock_person(application.person)
    application = TeacherApplication.objects.select_for_update().get(pk=application.pk)
    if (
        application.status != ApplicationStatus.WAITING
        or TeacherAccount.objects.filter(person=person).exists()
    ):
        raise RosterError(MSG_LINK_INVALID, code="link_invalid", kind=Kind.INVALID)
    # The link went to the trusted address: following it confirms that address as the person's.
    # The address typed in the application counts as verified only when it is that address.
    verified = trust.is_trusted(person, application.email)
    trust.confirm(person, trust.trusted_address(person))
    return _account_from_application(application, enabled_by=None, verified=verified)


def _current_membership_for_manager(actor, person: Person) -> Membership:
    membership = person.memberships.filter(end_date__isnull=True).select_related("unit").first()
    _require_manager(actor, membership.unit if membership is not None else None)
    return membership


@transaction.atomic
def teacher_account_enable(
    *, actor: User, person: Person, confirmed_application: int | None = None
) -> TeacherAccount:
    """啟用教師帳號 (the unit's 總負責人/連絡人): a waiting application, or a 停用中 account again.

    An application whose e-mail is not the roster's trusted address (teachers.trust) may have come
    from anyone who knows the teacher's ID and name (issue 16 point 5): it is enabled only when
    `confirmed_application` is its id, the manager's per-person confirmation after seeing who
    applied (a newer application since then needs a new confirmation)."""
    person = _lock_person(person)
    _current_membership_for_manager(actor, person)
    with set_actor(actor):
        account = (
            TeacherAccount.objects.select_for_update().select_related("user").filter(person=person).first()
        )
        if account is not None:
            if account.status == AccountStatus.ACTIVE:
                raise RosterError(MSG_ALREADY_ACTIVE, code="already_active")
            account.status = AccountStatus.ACTIVE
            account.enabled_at, account.enabled_by = timezone.now(), actor
            account.save(update_fields=["status", "enabled_at", "enabled_by"])
            account.user.is_active = True
            account.user.save(update_fields=["is_active"])
            return account
        application = (
            person.teacher_applications.select_for_update().filter(status=ApplicationStatus.WAITING).first()
        )
        if application is None:
            raise RosterError(MSG_NO_APPLICATION, code="no_application")
        if confirmed_application != application.pk and not trust.is_trusted(person, application.email):
            raise RosterError(MSG_APPLICATION_NOT_MATCHING, code="application_changed")
        return _account_from_application(application, enabled_by=actor, verified=False)


@transaction.atomic
def teacher_account_disable(*, actor: User, person: Person) -> TeacherAccount:
    """停用: the sign-in becomes inactive; the account and the roster entry stay."""
    person = _lock_person(person)
    _current_membership_for_manager(actor, person)
    account = TeacherAccount.objects.select_for_update().select_related("user").filter(person=person).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        raise RosterError(MSG_NOT_ACTIVE, code="not_active")
    with set_actor(actor):
        account.status = AccountStatus.DISABLED
        account.save(update_fields=["status"])
        account.user.is_active = False
        account.user.save(update_fields=["is_active"])
    return account


# ------------------------------------------------------------------------------------------------
# 資料下載


def roster_download_record(*, actor: User, unit: Unit, rows: int) -> RosterDownload:
    """Every roster download is recorded: it carries national IDs."""
    _require_manager(actor, unit)
    return RosterDownload.objects.create(actor=actor, unit=unit, rows=rows)
