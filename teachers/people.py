"""The operator's corrections of person records (issue 10 point 8): a mistyped national ID, two
records of one person merged. Both write an entry to the audit trail (never the IDs themselves).

A merge moves everything of the duplicate to the kept record: memberships (no two periods may
overlap: the same rule as every membership writer), the teacher account and applications, business
accounts and sign-ins, then what higher layers hold (hours, enrolments, corrections, certificates,
feed records, plans, snapshot rows, reward results) through the movers registered on
`teachers.reassign.REASSIGNERS`; then the duplicate is deleted. One transaction: any refusal
undoes everything. Every relation to Person must be moved here or by a registered mover: a merge
with a relation nobody handles fails loudly (`HookMissing`) before touching anything.
"""

from __future__ import annotations

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import national_id as nid
from accounts import permissions
from accounts.models import BusinessAccount, Person, User
from accounts.permissions import Perm
from core.hooks import HookMissing
from core.refusals import Kind
from teachers import reassign
from teachers.models import Membership, TeacherAccount, TeacherApplication
from teachers.services import RosterError

MSG_NOT_OPERATOR = _("只有教師進修網管理者可以更正人員資料。")
MSG_ID_TAKEN = _("新的身分證字號已屬於另一筆人員資料；若兩筆是同一人，請改用「合併人員資料」。")
MSG_SAME_ID = _("新的身分證字號與目前的相同。")
MSG_SAME_PERSON = _("兩個身分證字號是同一筆人員資料。")
MSG_TWO_TEACHER_ACCOUNTS = _("兩筆人員資料都有教師帳號，請先請教師決定保留哪一個，停用並刪除另一個後再合併。")
MSG_TWO_BUSINESS_ACCOUNTS = _("兩筆人員資料都有業務帳號，一人只能有一個業務帳號；請先刪除其中一個再合併。")
MSG_OVERLAP = _("兩筆人員資料的服務期間重疊（同一天只能在一個單位服務），請先更正服務紀錄再合併。")

REDACTED = "[已遮蔽]"

# The relations to Person that people_merge moves itself; every other one has a registered mover.
MOVED_HERE = frozenset(
    {
        "accounts.User",
        "accounts.BusinessAccount",
        "teachers.Membership",
        "teachers.TeacherAccount",
        "teachers.TeacherApplication",
    }
)


def person_relations() -> set[str]:
    """Every model pointing at Person (hidden related names included), by label."""
    return {
        field.related_model._meta.label
        for field in Person._meta.get_fields(include_hidden=True)
        if field.is_relation and field.auto_created and not field.concrete
    }


def unhandled_relations() -> set[str]:
    return person_relations() - MOVED_HERE - set(reassign.REASSIGNERS.items())


def _require_operator(actor) -> None:
    if not permissions.has_perm(actor, Perm.OPERATOR_ADMIN):
        raise RosterError(MSG_NOT_OPERATOR, code="forbidden", kind=Kind.FORBIDDEN)


def _audit(actor, person: Person, changes: dict, extra: dict) -> None:
    LogEntry.objects.log_create(
        person,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes=changes,
        actor=actor,
        additional_data=extra,
    )


@transaction.atomic
def person_national_id_correct(*, actor: User, person: Person, new_national_id: str) -> Person:
    """更正身分證字號: the person keeps everything; only the number changes."""
    _require_operator(actor)
    checked = nid.check(new_national_id)
    if not isinstance(checked, str):
        raise RosterError(checked.message, code="national_id_invalid", kind=Kind.INVALID)
    Person.objects.lock_national_id(checked)  # before the look-up: see lock_national_id
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.national_id_digest in nid.digests(checked):
        raise RosterError(MSG_SAME_ID, code="same_national_id", kind=Kind.INVALID)
    if Person.objects.by_national_id(checked).exists():
        raise RosterError(MSG_ID_TAKEN, code="national_id_taken")
    person.set_national_id(checked)
    person.save(update_fields=["national_id_digest", "national_id_encrypted"])
    _audit(actor, person, {"身分證字號": [REDACTED, REDACTED]}, {"event": "更正身分證字號"})
    return person


@transaction.atomic
def people_merge(*, actor: User, keep: Person, duplicate: Person) -> dict[str, int]:
    """合併人員資料: `duplicate`'s records move to `keep`; `duplicate` is deleted. Returns what moved."""
    _require_operator(actor)
    if keep.pk == duplicate.pk:
        raise RosterError(MSG_SAME_PERSON, code="same_person", kind=Kind.INVALID)
    unhandled = unhandled_relations()
    if unhandled:
        raise HookMissing(f"people_merge: no mover registered for {', '.join(sorted(unhandled))}")
    locked = {
        p.pk: p
        for p in Person.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk")
    }
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    moved: dict[str, int] = {}
    with set_actor(actor):
        theirs = list(Membership.objects.select_for_update().filter(person=duplicate))
        for membership in theirs:
            if Membership.objects.overlapping(
                person=keep, start=membership.start_date, end=membership.end_date
            ).exists():
                raise RosterError(MSG_OVERLAP, code="membership_overlap")
        for membership in theirs:
            membership.person = keep
            membership.save(update_fields=["person"])
        moved["服務紀錄"] = len(theirs)

        accounts = TeacherAccount.objects.select_for_update().filter(person__in=[keep, duplicate])
        if len(accounts) == 2:
            raise RosterError(MSG_TWO_TEACHER_ACCOUNTS, code="two_teacher_accounts")
        moved["教師帳號"] = 0
        for account in accounts:
            if account.person_id == duplicate.pk:
                account.person = keep
                account.save(update_fields=["person"])
                moved["教師帳號"] = 1
        TeacherApplication.objects.filter(person=duplicate).update(person=keep)

        live = (
            BusinessAccount.objects.select_for_update()
            .filter(person__in=[keep, duplicate])
            .exclude(status="deleted")
        )
        if len({account.person_id for account in live}) == 2:
            raise RosterError(MSG_TWO_BUSINESS_ACCOUNTS, code="two_business_accounts")
        for account in BusinessAccount.objects.filter(person=duplicate):
            account.person = keep
            account.save(update_fields=["person"])
        for user in User.objects.filter(person=duplicate):
            user.person = keep
            user.save(update_fields=["person"])

        for model_label, mover in reassign.REASSIGNERS.items().items():
            count = mover(duplicate, keep)
            if count:
                moved[str(apps.get_model(model_label)._meta.verbose_name)] = count

        if duplicate.email and not keep.email:
            # The address keeps its provenance (teachers.trust): who wrote it, whether confirmed.
            keep.email = duplicate.email
            keep.email_unit_id = duplicate.email_unit_id
            keep.email_confirmed = duplicate.email_confirmed
            keep.save(update_fields=["email", "email_unit", "email_confirmed"])
        _audit(
            actor,
            keep,
            {
                "合併人員資料": [
                    f"人員 #{duplicate.pk}（{duplicate.masked_name}）",
                    f"人員 #{keep.pk}（{keep.masked_name}）",
                ]
            },
            {"event": "合併人員資料", "merged_person_id": duplicate.pk, "moved": moved},
        )
        duplicate.delete()
    return moved
