"""The 業務帳號異動紀錄 as the portal speaks: zh-Hant actions and fields, ROC dates, no `None →`.

django-auditlog stores each change as raw strings (`"pending"`, `"2024-08-05 01:02:03"` in UTC,
`"None"`); this module turns one LogEntry of a BusinessAccount into what the operator reads.
It reads only the entry and the actor already fetched with it, so a page costs no extra query.
"""

import datetime as dt
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessAccount, BusinessAccountStatus, BusinessAccountType
from core.roc import format_roc_datetime

ACTION_APPLY = _("申請")
ACTION_CREATE_ENABLED = _("建立（已啟用）")  # made enabled at once: the demo data, an import
ACTION_ENABLE = _("啟用")
ACTION_CHANGE_TYPE = _("變更類型")
ACTION_DELETE = _("刪除")
ACTION_UPDATE = _("更新資料")

# Fields shown in the changes, in this order. The unit, the person and the sign-in are already in
# the account column (the entry's text as it was then); the row id says nothing to a person.
SHOWN_FIELDS = ("type", "status", "phone", "username", "applied_at", "enabled_at", "deleted_at")
_CHOICES = {"type": dict(BusinessAccountType.choices), "status": dict(BusinessAccountStatus.choices)}
_DATETIMES = {"applied_at", "enabled_at", "deleted_at"}
NOBODY = _("申請人（未登入）或系統")


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: the field had no value before (an application), so no arrow
    after: str


@dataclass(frozen=True)
class AuditRow:
    timestamp: dt.datetime
    actor: str
    account: str
    action: str
    changes: list[Change]


def _blank(value) -> bool:
    return value is None or value in ("None", "")


def _display(field: str, value) -> str:
    if _blank(value):
        return str(_("（無）"))
    if field in _CHOICES:
        return str(_CHOICES[field].get(value, value))
    if field in _DATETIMES:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=dt.UTC)  # auditlog keeps datetimes in UTC
        return format_roc_datetime(timezone.localtime(moment))
    return str(value)


def _label(field: str) -> str:
    return str(BusinessAccount._meta.get_field(field).verbose_name)


def _action(entry: LogEntry, changes: dict) -> str:
    if entry.action == LogEntry.Action.CREATE:
        enabled = changes.get("status", [None, None])[1] == BusinessAccountStatus.ACTIVE
        return str(ACTION_CREATE_ENABLED if enabled else ACTION_APPLY)
    if entry.action == LogEntry.Action.DELETE:
        return str(ACTION_DELETE)
    status_after = changes.get("status", [None, None])[1]
    actions = []
    if status_after == BusinessAccountStatus.ACTIVE:
        actions.append(ACTION_ENABLE)
    if status_after == BusinessAccountStatus.DELETED:
        actions.append(ACTION_DELETE)
    if "type" in changes:
        actions.append(ACTION_CHANGE_TYPE)
    return "、".join(str(action) for action in actions) or str(ACTION_UPDATE)


def actor_name(entry: LogEntry) -> str:
    """The actor's sign-in name as it was: a deleted business account's sign-in is renamed
    `deleted-<id>`, but the account keeps the name it had."""
    actor = entry.actor
    if actor is None:
        return str(NOBODY)
    account = getattr(actor, "business_account", None)
    return (account.username if account is not None and account.username else None) or actor.username


def describe(entry: LogEntry) -> AuditRow:
    changes = entry.changes_dict
    created = entry.action == LogEntry.Action.CREATE
    shown = []
    for field in SHOWN_FIELDS:
        if field not in changes:
            continue
        before, after = changes[field][0], changes[field][1]
        if created and _blank(after):
            continue  # an application's empty fields (not yet enabled or deleted) are no news
        shown.append(
            Change(
                field=_label(field),
                before=None if created or _blank(before) else _display(field, before),
                after=_display(field, after),
            )
        )
    return AuditRow(
        timestamp=entry.timestamp,
        actor=actor_name(entry),
        account=entry.object_repr,
        action=_action(entry, changes),
        changes=shown,
    )
