"""Nightly synchronisation of outside rosters (issue 10 point 10; the feed format is docs/feeds.md).

Two sources: kindergarten teachers from 全國教保資訊網 (rows whose change is still pending at the
source are skipped) and the teachers of Taipei's schools from 臺北市教師研習網. A source is read
through an adapter (`FileAdapter`, `HttpAdapter`): the whole feed is read and its closing line
checked BEFORE anything is applied, so a feed cut off midway changes nothing. The rows are then
applied in one transaction, each row in its own savepoint: a bad row is refused and reported with
its line number and a reason (never a national ID), the other rows go in; anything else that goes
wrong rolls the whole run back, marks it failed, e-mails the operator and shows on the operator's
home page. Moves go through `services.person_transfer`, departures through `membership_end`, so
the membership rules (no overlap, 轉校 the day before) hold as everywhere else. Running a feed
twice changes nothing the second time (idempotent).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import national_id as nid
from accounts.masking import mask_name
from accounts.models import BusinessAccount, BusinessAccountStatus, Person, Stage, Unit, UnitKind
from core import feeds as feed_adapters
from core.refusals import Kind
from teachers import services, trust
from teachers.models import Category, EndReason, FeedRun, FeedRunStatus, FeedSource, Membership

logger = logging.getLogger(__name__)

SERVING = "在職"
ENDED_STATUSES = {"離職": EndReason.LEFT, "退休": EndReason.RETIRED}
PROGRESS_EVERY = 200
PROGRESS_TIMEOUT = 24 * 3600


class FeedError(Exception):
    """The feed could not be read whole: the run fails and nothing is applied."""


# ------------------------------------------------------------------------------------------------
# Adapters: where the lines come from


# The transport is core.feeds' adapter interface, shared with the outbound kindergarten hours feed.
FileAdapter, HttpAdapter = feed_adapters.FileAdapter, feed_adapters.HttpAdapter


def adapter_for(location: str):
    """The adapter of a configured location: an http(s) URL or a file path (file:// allowed)."""
    return feed_adapters.adapter_for(location, token=getattr(settings, "TEACHER_FEED_TOKEN", ""))


def _read(adapter) -> bytes:
    try:
        return adapter.read()
    except feed_adapters.AdapterError as exc:
        if isinstance(adapter, FileAdapter):
            raise FeedError(_("無法讀取資料檔（%(error)s）。") % {"error": exc.reason}) from exc
        raise FeedError(_("無法取得資料（%(error)s）。") % {"error": exc.reason}) from exc


# ------------------------------------------------------------------------------------------------
# Sources: which units a feed may speak for


def units_in_scope(source: str):
    """The schools a source governs: 幼兒園 for 全國教保資訊網; Taipei's other schools for 臺北市."""
    schools = Unit.objects.filter(kind=UnitKind.SCHOOL)
    if source == FeedSource.KINDERGARTEN:
        return schools.filter(stage=Stage.KINDERGARTEN)
    return schools.filter(authority__code=settings.TAIPEI_AUTHORITY_CODE).exclude(stage=Stage.KINDERGARTEN)


# ------------------------------------------------------------------------------------------------
# Parsing


@dataclass
class Row:
    line: int
    national_id: str
    name: str
    email: str
    unit: Unit
    category: str
    title: str
    start: dt.date
    status: str
    end: dt.date | None


def split_lines(raw: bytes) -> list[tuple[int, str]]:
    """The data lines with their numbers; the closing line `{"end": true, "count": N}` must be last
    and count them, else the feed is incomplete (a transfer cut off midway) and the run fails."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(_("資料不是 UTF-8 編碼。")) from exc
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise FeedError(_("資料是空的，缺少結尾列。"))
    last_no, last = numbered[-1]
    try:
        trailer = json.loads(last)
    except ValueError:
        trailer = None
    if not (isinstance(trailer, dict) and trailer.get("end") is True):
        raise FeedError(_("資料不完整：缺少結尾列，可能在傳送中斷。"))
    data = numbered[:-1]
    if trailer.get("count") != len(data):
        raise FeedError(
            _("資料不完整：結尾列記載 %(expected)s 筆，實際收到 %(got)s 筆。")
            % {"expected": trailer.get("count"), "got": len(data)}
        )
    return data


def _date(value, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise services.RosterError(
            _("%(label)s須為 YYYY-MM-DD 格式的日期。") % {"label": label},
            code="feed_bad_date",
            kind=Kind.INVALID,
        ) from exc


def parse_row(line: int, text: str, units: dict[str, Unit]) -> Row | None:
    """A checked row, or None for a change still pending at the source; RosterError if bad."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise services.RosterError(
            _("不是正確的 JSON 資料列。"), code="feed_bad_row", kind=Kind.INVALID
        ) from exc
    if not isinstance(data, dict):
        raise services.RosterError(_("不是正確的 JSON 資料列。"), code="feed_bad_row", kind=Kind.INVALID)
    if data.get("pending") is True:
        return None
    problem = nid.check(str(data.get("national_id") or ""))
    if not isinstance(problem, str):
        raise services.RosterError(
            _("身分證字號：%(problem)s") % {"problem": problem}, code="national_id_invalid", kind=Kind.INVALID
        )
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 50:
        raise services.RosterError(_("姓名必填，且不可超過 50 字。"), code="feed_bad_name", kind=Kind.INVALID)
    unit = units.get(str(data.get("school_code") or "").strip())
    if unit is None:
        raise services.RosterError(
            _("學校代碼不存在，或不是此資料來源所屬的學校。"), code="feed_unknown_unit", kind=Kind.INVALID
        )
    category = str(data.get("category") or Category.TEACHER)
    if category not in Category.values:
        raise services.RosterError(
            _("類別須為「教師」或「行政職員」。"), code="feed_bad_category", kind=Kind.INVALID
        )
    status = str(data.get("status") or SERVING)
    if status != SERVING and status not in ENDED_STATUSES:
        raise services.RosterError(
            _("狀態須為「在職」、「離職」或「退休」。"), code="feed_bad_status", kind=Kind.INVALID
        )
    start = _date(data.get("start_date"), _("到職日期"))
    if start > timezone.localdate():
        raise services.RosterError(services.MSG_START_IN_FUTURE, code="start_in_future", kind=Kind.INVALID)
    end = None
    if status != SERVING:
        end = _date(data.get("end_date"), _("離職日期"))
        if end < start:
            raise services.RosterError(
                services.MSG_END_BEFORE_START, code="end_before_start", kind=Kind.INVALID
            )
    return Row(
        line=line,
        national_id=problem,
        name=name,
        email=str(data.get("email") or "").strip()[:254],
        unit=unit,
        category=category,
        title=str(data.get("title") or "").strip()[:60],
        start=start,
        status=status,
        end=end,
    )


# ------------------------------------------------------------------------------------------------
# Applying


def _apply(row: Row, source_label: str) -> str:
    """Apply one row; the outcome's counter name. RosterError refuses the row."""
    person = Person.objects.by_national_id(row.national_id).first()
    if person is not None and person.name != row.name:
        raise services.RosterError(
            _("姓名與本網站登錄的資料（%(masked)s）不符。") % {"masked": mask_name(person.name)},
            code="name_mismatch",
        )
    if row.status != SERVING:
        if person is None:
            raise services.RosterError(_("本網站查無此人員，無法登錄離職。"), code="feed_unknown_person")
        current = person.memberships.filter(end_date__isnull=True, unit=row.unit).first()
        if current is None:
            return "unchanged"  # already ended (or serving elsewhere now)
        services.membership_end(actor=None, membership=current, reason=ENDED_STATUSES[row.status], on=row.end)
        return "ended"
    if person is None:
        person = Person(name=row.name)
        person.set_national_id(row.national_id)
        trust.person_email_set(person, row.email, unit=row.unit, save=False)
        person.save()
    elif row.email and not person.email and trust.may_write_email(person, row.unit):
        # A feed speaks for its schools: it fills in the address only of someone serving at the
        # row's school now (teachers.trust), never of a person it is about to move in.
        trust.person_email_set(person, row.email, unit=row.unit)
    current = person.memberships.filter(end_date__isnull=True).first()
    if current is not None and current.unit_id == row.unit.pk:
        if (current.category, current.title) == (row.category, row.title):
            return "unchanged"
        current.category, current.title = row.category, row.title
        current.save(update_fields=["category", "title"])
        return "updated"
    services.person_transfer(
        person=person,
        to_unit=row.unit,
        on=row.start,
        source=source_label,
        category=row.category,
        title=row.title,
        subjects=None if current is not None else (),
    )
    return "moved" if current is not None else "added"


def progress_key(run_id: int) -> str:
    return f"teachers:feedrun:{run_id}:progress"


def progress_of(run: FeedRun) -> int:
    if run.status != FeedRunStatus.RUNNING:
        return run.processed
    return cache.get(progress_key(run.pk), run.processed)


CHUNK = 1000


def _known(rows: list[Row]) -> tuple[dict[str, Person], dict[int, Membership]]:
    """The people the rows name, by digest, and their current memberships: a few queries per thousand."""
    people: dict[str, Person] = {}
    digests = [nid.digest(row.national_id) for row in rows]
    for i in range(0, len(digests), CHUNK):
        for person in Person.objects.filter(national_id_digest__in=digests[i : i + CHUNK]):
            people[person.national_id_digest] = person
    ids = [person.pk for person in people.values()]
    current: dict[int, Membership] = {}
    for i in range(0, len(ids), CHUNK):
        for membership in Membership.objects.filter(person_id__in=ids[i : i + CHUNK], end_date__isnull=True):
            current[membership.person_id] = membership
    return people, current


def _create_newcomers(rows: list[Row], source_label: str) -> None:
    """New people serving at a school: inserted in bulk (nobody to overlap with, nothing to move)."""
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        people = []
        for row in chunk:
            person = Person(name=row.name)
            person.set_national_id(row.national_id)
            trust.person_email_set(person, row.email, unit=row.unit, save=False)
            people.append(person)
        Person.objects.bulk_create(people)
        if people and people[0].pk is None:  # back ends that return no keys
            by_digest = {
                p.national_id_digest: p
                for p in Person.objects.filter(national_id_digest__in=[p.national_id_digest for p in people])
            }
            people = [by_digest[p.national_id_digest] for p in people]
        Membership.objects.bulk_create(
            Membership(
                person=person,
                unit=row.unit,
                category=row.category,
                title=row.title,
                start_date=row.start,
                source=source_label,
            )
            for person, row in zip(people, chunk, strict=True)
        )


def _apply_all(run: FeedRun, lines: list[tuple[int, str]]) -> None:
    """Check every line, then apply: unchanged lines write nothing, newcomers go in bulk, and the
    rest (moves, departures, updates) row by row through the services, each in a savepoint."""
    source_label = str(FeedSource(run.source).label)
    units = {unit.code: unit for unit in units_in_scope(run.source)}
    seen: dict[str, int] = {}
    counts = dict.fromkeys(("added", "moved", "ended", "updated", "unchanged", "pending", "refused"), 0)
    refusals: list[list] = []
    rows: list[Row] = []
    for line, text in lines:
        try:
            row = parse_row(line, text, units)
            if row is None:
                counts["pending"] += 1
                continue
            digest = nid.digest(row.national_id)
            if digest in seen:
                raise services.RosterError(
                    _("與第 %(line)s 列是同一人，同一人只能有一列。") % {"line": seen[digest]},
                    code="feed_duplicate_person",
                    kind=Kind.INVALID,
                )
            seen[digest] = line
            rows.append(row)
        except services.RosterError as exc:
            counts["refused"] += 1
            refusals.append([line, nid.redact(str(exc.message))])
    done = len(lines) - len(rows)
    cache.set(progress_key(run.pk), done, PROGRESS_TIMEOUT)

    people, current = _known(rows)
    newcomers: list[Row] = []
    for row in rows:
        person = people.get(nid.digest(row.national_id))
        membership = current.get(person.pk) if person is not None else None
        outcome = None
        if person is None and row.status == SERVING:
            newcomers.append(row)
            outcome = "added"
        elif person is not None and person.name == row.name:
            at_school = membership is not None and membership.unit_id == row.unit.pk
            if (
                row.status == SERVING
                and at_school
                and (membership.category, membership.title)
                == (
                    row.category,
                    row.title,
                )
            ):
                if not row.email or person.email:
                    outcome = "unchanged"
            elif row.status != SERVING and not at_school:
                outcome = "unchanged"  # already ended there
        if outcome is None:  # a move, a departure, an update, or a refusal: through the services
            try:
                with transaction.atomic():
                    outcome = _apply(row, source_label)
            except services.RosterError as exc:
                outcome = "refused"
                refusals.append([row.line, nid.redact(str(exc.message))])
            except IntegrityError:
                outcome = "refused"
                refusals.append([row.line, _("與本網站既有的服務紀錄衝突。")])
        counts[outcome] += 1
        done += 1
        if done % PROGRESS_EVERY == 0:
            cache.set(progress_key(run.pk), done, PROGRESS_TIMEOUT)
    _create_newcomers(newcomers, source_label)
    refusals.sort()
    for name, value in counts.items():
        setattr(run, name, value)
    run.refusals = refusals
    run.processed = len(lines)


def roster_feed_run(source: str, *, adapter=None) -> FeedRun:
    """Synchronise one source now; the run's report (a failed run is reported, never raised)."""
    run = FeedRun.objects.create(source=source)
    cache.set(progress_key(run.pk), 0, PROGRESS_TIMEOUT)
    try:
        if nid.rekeying():
            # Rows are matched by the writer key's digest alone (_known): not while re-keying.
            raise FeedError(_("身分證字號查詢金鑰輪替進行中，本次同步暫停；輪替完成後自動恢復。"))
        if adapter is None:
            location = settings.TEACHER_FEEDS.get(source, "")
            if not location:
                raise FeedError(_("尚未設定此資料來源的位置。"))
            adapter = adapter_for(location)
        lines = split_lines(_read(adapter))
        run.total = len(lines)
        FeedRun.objects.filter(pk=run.pk).update(total=run.total)
        with transaction.atomic():
            _apply_all(run, lines)
    except Exception as exc:
        run.refresh_from_db()
        run.status = FeedRunStatus.FAILED
        if isinstance(exc, FeedError):
            run.error = nid.redact(str(exc))
        else:
            run.error = _("處理時發生錯誤（%(error)s），本次同步未寫入任何資料。") % {
                "error": type(exc).__name__
            }
        run.finished_at = timezone.now()
        run.save()
        logger.warning("teacher feed %s run %s failed: %s", source, run.pk, type(exc).__name__)
        roster_feed_failure_notify(run)
        return run
    run.status = FeedRunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    cache.delete(progress_key(run.pk))
    return run


def operator_addresses() -> list[str]:
    """settings.ADMINS and the e-mail of every enabled operator account."""
    addresses = [address for _name, address in getattr(settings, "ADMINS", [])]
    addresses += (
        BusinessAccount.objects.filter(unit__kind=UnitKind.OPERATOR, status=BusinessAccountStatus.ACTIVE)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(addresses))


def roster_feed_failure_notify(run: FeedRun) -> None:
    recipients = operator_addresses()
    if not recipients:
        return
    source = FeedSource(run.source).label
    send_mail(
        subject=_("【教師進修網】夜間同步失敗：%(source)s") % {"source": source},
        message=_(
            "%(source)s 的夜間教師資料同步於 %(at)s 失敗，本次未寫入任何資料。\n原因：%(error)s\n"
            "請登入教師進修網，於「夜間同步紀錄」查看。"
        )
        % {
            "source": source,
            "at": timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M"),
            "error": run.error,
        },
        from_email=None,
        recipient_list=recipients,
    )


def failed_latest_runs() -> list[FeedRun]:
    """Each source whose latest finished run failed (the operator's home page shows them)."""
    failed = []
    for source in FeedSource.values:
        latest = (
            FeedRun.objects.filter(source=source)
            .filter(Q(status=FeedRunStatus.SUCCEEDED) | Q(status=FeedRunStatus.FAILED))
            .first()
        )
        if latest is not None and latest.status == FeedRunStatus.FAILED:
            failed.append(latest)
    return failed


def roster_feed_run_all(sources: Iterable[str] | None = None) -> list[FeedRun]:
    return [roster_feed_run(source) for source in (sources or FeedSource.values)]
