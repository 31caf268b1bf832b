"""進修規劃年度 in the portal (SPEC §6): the operator copies last year's cycle, edits it, reads its log.

Every write goes through here, inside a transaction and with the operator as django-auditlog's actor,
so each change of a cycle or window is a LogEntry with the old and the new values and who made it
(windows decide awards after the fact: SPEC §7 counts plans submitted inside them). A refusal is a
sentence the operator reads, never a constraint's name, and leaves the data as it was: a PlanningError
(core.refusals.Refused) with its rule's code, answered by core.refusals.refused_response.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from auditlog.context import set_actor
from auditlog.models import LogEntry
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import Unit, User
from accounts.permissions import Perm
from core.refusals import Kind
from core.roc import format_roc_date, format_roc_datetime
from planning.models import PlanKind, PlanningCycle, PlanningWindow, RosterSnapshot
from planning.services import PlanningError

MSG_NOTHING_TO_COPY = _("尚無任何進修規劃年度可複製；請先建立第一個年度。")
MSG_LAST_BEFORE_FIRST = _("截止日期（%(last)s）不可早於開始日期（%(first)s）。")
MSG_WINDOW_EXISTS = _(
    "%(authority)s 在 %(year)s 學年度已有「%(kind)s」的填報期程，請修改該期程，不要重複新增。"
)
MSG_NOT_AUTHORITY = _("請選擇一個主管機關。")
MSG_SNAPSHOT_TAKEN = _(
    "教師名單快照已於 %(at)s 依原截止時間建立，教師名單截止時間不能再變更（改了也不會改變名單）。"
)
MSG_CONFLICT = _("資料已被其他人同時修改，請重新整理頁面後再試；資料未變更。")
MSG_WINDOW_GONE = _("找不到這個填報期程；可能已被其他人刪除。")


def _one_year_later(value):
    """The same calendar day a year later (29 February becomes 28 February)."""
    return value + relativedelta(years=1)


@transaction.atomic
def cycle_copy(*, actor: User) -> PlanningCycle:
    """Next year's cycle from the last one: its cut-off and every window, a year later."""
    permissions.require(actor, Perm.OPERATOR_ADMIN)
    source = PlanningCycle.objects.order_by("-year").first()
    if source is None:
        raise PlanningError(MSG_NOTHING_TO_COPY, code="nothing_to_copy")
    year = source.year + 1  # the last cycle's year plus one never exists yet
    with set_actor(actor):
        cycle = PlanningCycle.objects.create(year=year, roster_cutoff=_one_year_later(source.roster_cutoff))
        # One save per window (not bulk_create), so each copied window is in the change log.
        for window in source.windows.order_by("kind", "first_day", "authority__code"):
            PlanningWindow.objects.create(
                cycle=cycle,
                kind=window.kind,
                authority_id=window.authority_id,
                phase=window.phase,
                first_day=_one_year_later(window.first_day),
                last_day=_one_year_later(window.last_day),
            )
    return cycle


@transaction.atomic
def cycle_update(*, actor: User, cycle_id: int, roster_cutoff: dt.datetime) -> PlanningCycle:
    permissions.require(actor, Perm.OPERATOR_ADMIN)
    cycle = PlanningCycle.objects.select_for_update().get(pk=cycle_id)
    changed = cycle.roster_cutoff != roster_cutoff
    snapshot = RosterSnapshot.objects.filter(cycle=cycle).first()
    if changed and snapshot is not None:
        taken = format_roc_datetime(timezone.localtime(snapshot.taken_at))
        raise PlanningError(MSG_SNAPSHOT_TAKEN % {"at": taken}, code="snapshot_taken")
    if changed:
        cycle.roster_cutoff = roster_cutoff
        with set_actor(actor):
            cycle.save(update_fields=["roster_cutoff"])
    return cycle


def _check_window(cycle: PlanningCycle, *, window_id, kind, authority: Unit, first_day, last_day) -> None:
    if last_day < first_day:
        raise PlanningError(
            MSG_LAST_BEFORE_FIRST % {"first": format_roc_date(first_day), "last": format_roc_date(last_day)},
            code="end_before_start",
            kind=Kind.INVALID,
        )
    duplicate = PlanningWindow.objects.filter(cycle=cycle, kind=kind, authority=authority).exclude(
        pk=window_id
    )
    if duplicate.exists():
        raise PlanningError(
            MSG_WINDOW_EXISTS
            % {"authority": authority.name, "year": cycle.year, "kind": PlanKind(kind).label},
            code="window_exists",
        )


def window_save(
    *,
    actor: User,
    cycle_id: int,
    window_id: int | None,
    kind: str,
    authority_id: int,
    phase: int | None,
    first_day: dt.date,
    last_day: dt.date,
) -> PlanningWindow:
    """Add a window to a cycle (window_id None) or change one; refused in words, nothing changed."""
    permissions.require(actor, Perm.OPERATOR_ADMIN)
    try:
        with transaction.atomic():
            cycle = PlanningCycle.objects.select_for_update().get(pk=cycle_id)
            authority = Unit.objects.authorities().filter(pk=authority_id).first()
            if authority is None:
                raise PlanningError(MSG_NOT_AUTHORITY, code="not_authority", kind=Kind.INVALID)
            _check_window(
                cycle,
                window_id=window_id,
                kind=kind,
                authority=authority,
                first_day=first_day,
                last_day=last_day,
            )
            window = (
                PlanningWindow(cycle=cycle) if window_id is None else _locked_window(window_id, cycle=cycle)
            )
            window.kind, window.authority, window.phase = kind, authority, phase
            window.first_day, window.last_day = first_day, last_day
            with set_actor(actor):
                window.save()
    except IntegrityError:
        # Two operators adding the same window at once: the database keeps one, the other reads this.
        raise PlanningError(MSG_CONFLICT, code="concurrent_change") from None
    return window


def _locked_window(window_id: int, **where) -> PlanningWindow:
    """The window, locked; refused as not found (404) when another operator deleted it meanwhile."""
    window = PlanningWindow.objects.select_for_update().filter(pk=window_id, **where).first()
    if window is None:
        raise PlanningError(MSG_WINDOW_GONE, code="window_not_visible", kind=Kind.NOT_VISIBLE)
    return window


@transaction.atomic
def window_delete(*, actor: User, window_id: int) -> None:
    permissions.require(actor, Perm.OPERATOR_ADMIN)
    window = _locked_window(window_id)
    with set_actor(actor):
        window.delete()


# ---------------------------------------------------------------- the change log, as the operator reads it


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: a new object, so there was nothing before
    after: str | None  # None: a deleted object


@dataclass(frozen=True)
class LogRow:
    timestamp: dt.datetime
    actor: str
    subject: str
    action: str
    changes: list[Change]


ACTIONS = {
    LogEntry.Action.CREATE: _("新增"),
    LogEntry.Action.UPDATE: _("修改"),
    LogEntry.Action.DELETE: _("刪除"),
}
CYCLE_FIELDS = ("year", "roster_cutoff")  # entries written before issue 17 may also name "stages"
WINDOW_FIELDS = ("kind", "authority", "phase", "first_day", "last_day")


def change_log(cycle: PlanningCycle | None = None) -> QuerySet[LogEntry]:
    """Every recorded change of cycles and windows, newest first (of one cycle's windows, if given)."""
    types = ContentType.objects.get_for_models(PlanningCycle, PlanningWindow)
    entries = LogEntry.objects.filter(content_type__in=types.values()).select_related("actor", "content_type")
    if cycle is not None:
        window_ids = [str(pk) for pk in cycle.windows.values_list("pk", flat=True)]
        entries = entries.filter(content_type=types[PlanningCycle], object_pk=str(cycle.pk)) | entries.filter(
            content_type=types[PlanningWindow], object_pk__in=window_ids
        )
    return entries.order_by("-timestamp", "-pk")


def _blank(value) -> bool:
    return value is None or value in ("None", "")


def _display(field: str, value, units: dict[str, str]) -> str:
    if _blank(value):
        return str(_("（無）"))
    text = str(value)
    try:
        if field == "roster_cutoff":
            moment = dt.datetime.fromisoformat(text)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=dt.UTC)  # auditlog keeps datetimes in UTC
            return format_roc_datetime(timezone.localtime(moment))
        if field in ("first_day", "last_day"):
            return format_roc_date(dt.date.fromisoformat(text))
    except (ValueError, TypeError):
        return text
    if field == "kind" and text in PlanKind.values:
        return str(PlanKind(text).label)
    if field == "authority":
        return units.get(text, text)
    return text


def _label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def describe(entries) -> list[LogRow]:
    """The entries of one page in words: zh-Hant field names, ROC dates, authorities by name."""
    entries = list(entries)
    authority_pks = {
        value
        for entry in entries
        for value in entry.changes_dict.get("authority", [])
        if not _blank(value) and str(value).isdigit()
    }
    units = {
        str(pk): name for pk, name in Unit.objects.filter(pk__in=authority_pks).values_list("pk", "name")
    }
    rows = []
    for entry in entries:
        model = entry.content_type.model_class()
        fields = CYCLE_FIELDS if model is PlanningCycle else WINDOW_FIELDS
        changes = entry.changes_dict
        shown = []
        for field in fields:
            if field not in changes:
                continue
            before, after = changes[field][0], changes[field][1]
            shown.append(
                Change(
                    field=_label(model, field),
                    before=None if entry.action == LogEntry.Action.CREATE else _display(field, before, units),
                    after=None if entry.action == LogEntry.Action.DELETE else _display(field, after, units),
                )
            )
        actor = entry.actor
        rows.append(
            LogRow(
                timestamp=entry.timestamp,
                actor=actor.username if actor is not None else str(_("系統")),
                subject=entry.object_repr,
                action=str(ACTIONS.get(entry.action, entry.action)),
                changes=shown,
            )
        )
    return rows
