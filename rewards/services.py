"""Write use-cases of the year-end reward job (獎勵作業, SPEC §7).

start → (Celery) execute → 完成 / 失敗, or 中斷 when the worker died. The lock is the database's:
a partial unique constraint allows one waiting or running run per year, so a second start is
refused whatever process asks. On PostgreSQL the executing worker also holds a session advisory
lock keyed by the run; a worker killed mid-run drops its connection, PostgreSQL rolls the run's
transaction back (the previous results stay published) and frees that lock, and
the portal's one reaper (core.reaper, every minute from Celery beat, and before every start) marks
such a run 中斷, which releases the per-year lock.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from accounts import national_id, permissions
from accounts.permissions import Perm
from core import exports as core_exports
from core import reaper
from core.exports import ACTIVE_EXPORT_STATUSES, ExportStatus
from core.refusals import Kind
from core.roc import academic_year, academic_year_bounds, format_roc_date
from courses.models import IssuedHours
from planning.models import PlanningCycle
from rewards import exports, job, selectors
from rewards.errors import RewardError
from rewards.models import ACTIVE_STATUSES, ListExport, RewardRun, RunStage, RunStatus, TeacherResult
from teachers import reassign

logger = logging.getLogger(__name__)

MSG_FORBIDDEN = _("只有教師進修網管理者可以執行獎勵作業。")
MSG_ALREADY_ACTIVE = _("第 {year} 學年度的獎勵作業已在執行中（{since} 由 {who} 啟動），請待其完成後再啟動。")
MSG_NO_CYCLE = _("第 {year} 學年度既沒有研習時數，也沒有進修規劃年度（填報期程），無法計算獎勵。")
MSG_NO_PLANS_YEAR = _(
    "第 {year} 學年度沒有進修規劃年度（填報期程）：仍會計算研習時數、全國平均與百分等級，"
    "但教師獎與學校獎都須於填報期程內送出規劃，主管機關獎須學校於期程內送出，所以這一年不會有人獲獎。"
)
MSG_YEAR_NOT_OVER = _("第 {year} 學年度尚未結束（至 {end}），學年度結束後才能計算獎勵。")
MSG_NOT_QUEUED = _("只能取消等待執行中的獎勵作業。")
MSG_EMPTY_POPULATION = _("第 {year} 學年度 7 月 31 日沒有符合資格的在職教師，無法計算獎勵。")
MSG_INTERRUPTED = _("工作程序在執行中途停止（例如被終止或主機重新啟動）；已公布的名單維持前一次完成的結果。")

ADVISORY_LOCK_CLASS = 7_113  # first key of pg_advisory_lock(class, run id): this job's runs
PROGRESS_TTL = 24 * 60 * 60


def class_width() -> Decimal:
    width = Decimal(str(settings.REWARDS_CLASS_WIDTH))
    if width <= 0:
        raise RewardError(_("組距 i（REWARDS_CLASS_WIDTH）必須大於 0。"), code="bad_class_width")
    return width


# ------------------------------------------------------------------------------------------
# Progress: kept in the cache, because the run's own rows only change when its transaction
# commits; the page reads the cache while the run is active and the row afterwards.


def _progress_key(run_id: int) -> str:
    return f"rewards:progress:{run_id}"


def _report(run_id: int, stage: str, percent: int) -> None:
    cache.set(_progress_key(run_id), {"stage": str(stage), "percent": int(percent)}, PROGRESS_TTL)


# A queued run that no worker has taken after this long says so (with Redis set, runs wait for
# `make worker`; without a worker the page would otherwise wait for ever).
UNPICKED_AFTER_SECONDS = 30
MSG_UNPICKED = _(
    "已等待 {seconds} 秒仍沒有背景工作程序接手。請確認背景工作程序已啟動（開發環境執行 make worker），"
    "或取消這次作業。"
)


def unpicked_warning(run: RewardRun, at=None) -> str:
    """The words for a run still queued after UNPICKED_AFTER_SECONDS, else ''."""
    if run.status != RunStatus.QUEUED:
        return ""
    waited = int(((at or timezone.now()) - run.created_at).total_seconds())
    if waited < UNPICKED_AFTER_SECONDS:
        return ""
    return _t(MSG_UNPICKED).format(seconds=waited)


def year_has_hours(year: int) -> bool:
    return IssuedHours.objects.in_year(year).exists()


def rewardable_years(today=None) -> list[int]:
    """Every ended academic year with a planning cycle or issued hours, latest first."""
    last_ended = academic_year(today or timezone.localdate()) - 1
    years = set(PlanningCycle.objects.filter(year__lte=last_ended).values_list("year", flat=True))
    span = IssuedHours.objects.aggregate(first=Min("date"), last=Max("date"))
    if span["first"] is not None:
        low, high = academic_year(span["first"]), min(academic_year(span["last"]), last_ended)
        years |= {year for year in range(low, high + 1) if year not in years and year_has_hours(year)}
    return sorted(years, reverse=True)


def progress_of(run: RewardRun) -> tuple[str, int]:
    """(stage label, percent) of a run, live while it is active."""
    stage, percent = run.stage, run.percent
    if run.is_active:
        live = cache.get(_progress_key(run.pk))
        if live:
            stage, percent = live["stage"], live["percent"]
    return str(RunStage(stage).label), percent


# ------------------------------------------------------------------------------------------
# Start, cancel


def _who(run: RewardRun) -> str:
    return run.started_by_label or _t("管理者")


def reward_run_start(*, actor, year: int, via: str = "web") -> RewardRun:
    """Queue a run for `year`; refused while another run of that year waits or runs.

    `actor` None means the shell (`manage.py run_rewards`), which is the operator's by definition.
    """
    if actor is not None:
        if not permissions.has_perm(actor, Perm.REWARD_JOB):
            raise RewardError(MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)
    if not PlanningCycle.objects.filter(year=year).exists() and not year_has_hours(year):
        raise RewardError(_t(MSG_NO_CYCLE).format(year=year), code="no_cycle")
    last_day = academic_year_bounds(year)[1]
    if timezone.localdate() <= last_day:
        raise RewardError(
            _t(MSG_YEAR_NOT_OVER).format(year=year, end=format_roc_date(last_day)), code="year_not_over"
        )
    width = class_width()
    reward_runs_reap_interrupted()
    try:
        with transaction.atomic():
            run = RewardRun.objects.create(
                year=year, started_by=actor, started_via=via, class_width=width, status=RunStatus.QUEUED
            )
            transaction.on_commit(lambda: _enqueue(run.pk))
    except IntegrityError:
        active = (
            RewardRun.objects.filter(year=year, status__in=ACTIVE_STATUSES)
            .select_related("started_by")
            .first()
        )
        since = timezone.localtime(active.created_at) if active else timezone.localtime()
        raise RewardError(
            _t(MSG_ALREADY_ACTIVE).format(
                year=year,
                since=f"{format_roc_date(since.date())} {since:%H:%M}",
                who=_who(active) if active else _t("管理者"),
            ),
            code="already_active",
        ) from None
    _report(run.pk, RunStage.QUEUED, 0)
    return run


def _enqueue(run_id: int) -> None:
    from rewards.tasks import run_rewards  # rewards.tasks imports this module

    queue = getattr(settings, "REWARDS_QUEUE", None)
    options = {"queue": queue} if queue else {}
    run_rewards.apply_async(args=[run_id], **options)


def reward_run_cancel(*, actor, run_id: int) -> RewardRun:
    """Withdraw a run no worker has taken yet (a start with no worker running)."""
    if not permissions.has_perm(actor, Perm.REWARD_JOB):
        raise RewardError(MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)
    changed = RewardRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, finished_at=timezone.now()
    )
    if not changed:
        raise RewardError(MSG_NOT_QUEUED, code="not_queued")
    return RewardRun.objects.get(pk=run_id)


# ------------------------------------------------------------------------------------------
# Execute (the Celery task's body)


class _RunLock:
    """PostgreSQL: a session advisory lock held for the run's lifetime, freed if the worker dies."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.pg = connection.vendor == "postgresql"

    def __enter__(self):
        if self.pg:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, self.run_id])
        return self

    def __exit__(self, *exc):
        if self.pg:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, self.run_id])
            except Exception:  # the connection is gone: so is the lock
                logger.warning("reward run %s: advisory lock not released explicitly", self.run_id)
        return False


def _pause_for_tests() -> None:
    # The killed-worker test stops the run here, after the new rows are written and before they
    # commit, to kill the worker at the worst moment. Unset in production.
    seconds = float(os.environ.get("INSERVICE_REWARDS_PAUSE_BEFORE_COMMIT", "0") or 0)
    if seconds:
        time.sleep(seconds)


def reward_run_execute(*, run_id: int) -> RewardRun | None:
    """Compute and publish the results of a queued run; idempotent (a run is taken once)."""
    with _RunLock(run_id):
        taken = RewardRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING,
            stage=RunStage.POPULATION,
            started_at=timezone.now(),
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        if not taken:
            return None
        run = RewardRun.objects.get(pk=run_id)

        def progress(stage, percent):
            _report(run_id, stage, percent)

        try:
            fresh = not connection.in_atomic_block
            with transaction.atomic():
                if fresh and connection.vendor == "postgresql":
                    # One snapshot for every read of the run: roster, hours and plans as of one instant.
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                computation = job.compute(
                    run_id=run_id, year=run.year, width=run.class_width, progress=progress
                )
                job.replace_results(computation, progress)
                _pause_for_tests()
                # Marked 完成 in the same transaction as the rows: published together or not at all.
                RewardRun.objects.filter(pk=run_id).update(
                    status=RunStatus.SUCCEEDED,
                    stage=RunStage.DONE,
                    percent=100,
                    finished_at=timezone.now(),
                    summary=computation.summary(),
                )
        except Exception as error:
            if isinstance(error, job.EmptyPopulation):
                message = _t(MSG_EMPTY_POPULATION).format(year=run.year)
            else:
                logger.exception("reward run %s for year %s failed", run_id, run.year)
                message = _t("執行時發生錯誤：{error}").format(error=type(error).__name__)
            RewardRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, finished_at=timezone.now(), error=message
            )
            run.refresh_from_db()
            _notify_failure(run)
            return run
    _report(run_id, RunStage.DONE, 100)
    run.refresh_from_db()
    return run


# ------------------------------------------------------------------------------------------
# Interrupted runs and failure mail


def _owner_alive(run: RewardRun) -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, run.pk])
            (free,) = cursor.fetchone()
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, run.pk])
        return not free
    # Elsewhere (SQLite runs in-process): alive while the recorded process is.
    host, _, pid = run.worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_interrupted(run: RewardRun) -> dict:
    return {"status": RunStatus.INTERRUPTED, "finished_at": timezone.now(), "error": str(MSG_INTERRUPTED)}


def reward_runs_reap_interrupted() -> list[RewardRun]:
    """Mark 中斷 every running run whose worker is gone, which frees its year for a new run.

    The reward job is one kind of the portal's single reaper (core.reaper, run by Celery beat);
    a start also reaps first, so a dead run never blocks its year.
    """
    return reaper.reap(REWARD_JOB)


def _notify_failure(run: RewardRun) -> None:
    """E-mail the operator who started the run (and ADMINS) that it did not complete."""
    recipients = [email for _name, email in settings.ADMINS]
    if run.started_by_id and run.started_by.email:
        recipients.insert(0, run.started_by.email)
    if not recipients:
        logger.warning("reward run %s ended %s and nobody is set to be told", run.pk, run.status)
        return
    status = RunStatus(run.status).label
    subject = _t("[教師進修網] 第 {year} 學年度獎勵作業{status}").format(year=run.year, status=status)
    body = _t(
        "第 {year} 學年度獎勵作業（編號 {id}）{status}。\n\n{error}\n\n"
        "已公布的獎勵名單維持前一次完成的結果。請至「獎勵作業」頁面查看並重新執行。"
    ).format(year=run.year, id=run.pk, status=status, error=run.error)
    try:
        send_mail(subject, body, None, list(dict.fromkeys(recipients)))
    except Exception:
        logger.exception("reward run %s: the failure mail could not be sent", run.pk)


# ------------------------------------------------------------------------------------------
# Merging two person records (the teachers.reassign hook): a published result follows the person.

MSG_MERGE_RESULT = _("兩筆人員資料在同一次獎勵作業（{which} 學年度）中都有教師獎勵結果，無法合併。")


def person_teacher_results_move(source, target) -> int:
    return reassign.move_rows(
        TeacherResult,
        source,
        target,
        clash=MSG_MERGE_RESULT,
        describe=lambda rows: "、".join(str(y) for y in sorted(set(rows.values_list("year", flat=True)))),
    )


PERSON_MOVERS = {TeacherResult: person_teacher_results_move}


# The reward job as the reaper sees it (registered in rewards.apps).
REWARD_JOB = reaper.JobKind(
    key="rewards.reward_run",
    model=RewardRun,
    working={"status": RunStatus.RUNNING},
    interrupted=_run_interrupted,
    alive=_owner_alive,
    on_interrupted=_notify_failure,
)


# ------------------------------------------------------------------------------------------
# The operator's national lists: a status row plus a task (core.exports), not a 12 s request.

EXPORT_LOCK_CLASS = 7_114  # first key of pg_advisory_lock(class, export id): a worker writing it
MSG_EXPORT_NATIONAL_ONLY = _("背景產生的下載僅供管理者的全國名單；其他名單請直接下載。")
MSG_EXPORT_NOT_PUBLISHED = _("第 {year} 學年度尚無已公布的獎勵名單。")


def list_export_request(*, actor, year: int, suffix: str, list_name: str, spec: bool) -> ListExport:
    """Queue the national list (the same file asked for twice while it is prepared is one export)."""
    scope = selectors.scope_of(actor)
    if scope.level != "all":
        raise RewardError(MSG_EXPORT_NATIONAL_ONLY, code="forbidden", kind=Kind.FORBIDDEN)
    if selectors.published_run(year) is None:
        raise RewardError(_t(MSG_EXPORT_NOT_PUBLISHED).format(year=year), code="not_published")
    list_name = "" if suffix == "xlsx" or spec else list_name
    wanted = {"year": year, "suffix": suffix, "list_name": list_name, "spec": spec}
    active = selectors.own_list_exports(actor).filter(status__in=ACTIVE_EXPORT_STATUSES, **wanted).first()
    if active is not None:
        return active
    filename = exports.download_name(scope, year, suffix=suffix, only=list_name, spec=spec)
    with transaction.atomic():
        export = ListExport.objects.create(requested_by=actor, filename=filename, **wanted)
        transaction.on_commit(lambda: _enqueue_export(export.pk))
    return export


def _enqueue_export(export_id: int) -> None:
    from rewards.tasks import produce_list_export  # rewards.tasks imports this module

    queue = getattr(settings, "REWARDS_QUEUE", None)
    produce_list_export.apply_async(args=[export_id], **({"queue": queue} if queue else {}))


def list_export_produce(*, export_id: int) -> bool:
    """The task's body: write the requested file, encrypted; a rerun of a taken export does nothing."""
    export = ListExport.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None or export.status != ExportStatus.QUEUED:
        return False
    scope = selectors.scope_of(export.requested_by)  # still the operator's, or no file at all
    tables = exports.download_tables(
        scope, export.year, suffix=export.suffix, only=export.list_name or None, spec=export.spec
    )
    total = selectors.list_row_count(scope, export.year, lists=exports.lists_in(export))
    return core_exports.produce(
        export, tables, cipher=national_id.cipher(), lock_class=EXPORT_LOCK_CLASS, total=total
    )


# An export whose worker died becomes 中斷 and its partial file goes (registered in rewards.apps).
LIST_EXPORT_JOB = reaper.JobKind(
    key="rewards.list_export",
    model=ListExport,
    working={"status": ExportStatus.RUNNING},
    interrupted=core_exports.interrupted_values,
    lock_class=EXPORT_LOCK_CLASS,
    heartbeat_field="heartbeat_at",
    on_interrupted=core_exports.discard_file,
)
