"""Batch work for a school (issue 10 point 8): the unit's roster file, several accounts enabled at once.

The upload is stored, a `RosterUpload` row records it, and a Celery task (`teachers.tasks.
import_roster_upload`, eager on SQLite) runs it through the data-exchange engine
(`core.dataexchange.import_file("roster", …)`): refused whole with the engine's row messages.
A school speaks only for itself: every row must name the school's own unit code (one message per
foreign row).

The school's file has the columns of 資料下載 (`SCHOOL_COLUMNS`, zh-Hant names, ROC or ISO dates,
任教科目 separated by 、 or ;), so a download edited in a spreadsheet uploads back; a template with
those columns is downloadable. The SPEC §8 roster columns are accepted too. Either way the file is
rewritten row by row into the engine's format on the same line numbers, and every problem of the
file comes back in one pass: this rewrite's own (a foreign unit code, a date, an unknown 任教科目)
together with the engine's for the other rows; a file with any problem writes nothing. The file
may change only people the school serves now, or create new ones (teachers.importers, `unit_id`),
and a file past settings.UPLOAD_MAX_ROWS is refused at its first row past the limit, before the
engine reads it.
"""

from __future__ import annotations

import csv
import itertools
import logging
import os
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.masking import mask_name
from accounts.models import User
from core import dataexchange, reaper, roc
from core.dataexchange import SHEET_SPAN, ErrorList, ImportRefused, Table, escape_formula
from core.refusals import Kind
from core.validation import MSG_REQUIRED
from teachers import importers, services
from teachers.models import Membership, RosterUpload, Subject, UploadStatus

logger = logging.getLogger(__name__)

MSG_FOREIGN_UNIT = "unit_code 不是本單位的代碼（{code}）：學校只能上傳本單位的教師資料"
MSG_SCHOOL_DATE = "{column}日期格式不正確（例：113年8月1日、113/8/1 或 2024-08-01）"
MSG_UNKNOWN_SUBJECT = "任教科目「{name}」不在任教科目清單中（請用清單中的名稱，以「、」分隔）"
MSG_FIRST_SHEET_ONLY = "教師名單只讀第一個工作表，請把資料放在第一個工作表"

# The school's roster file: the columns of 資料下載 in its order (teachers.exports writes them).
# 帳號狀況 and 使用者帳號 are shown for checking and not read back; 離職日期 and 異動原因 may be
# filled in to end a membership.
SCHOOL_COLUMNS = ("身分證字號", "姓名", "類別", "職稱", "任教科目", "電子郵件", "到職日期")
SCHOOL_OPTIONAL = ("離職日期", "異動原因")
DOWNLOAD_COLUMNS = (
    "身分證字號",
    "姓名",
    "類別",
    "職稱",
    "任教科目",
    "帳號狀況",
    "使用者帳號",
    "電子郵件",
    "到職日期",
    "離職日期",
    "異動原因",
)
SUBJECT_SPLIT = re.compile(r"\s*[、;；,，]\s*")
MSG_BAD_TYPE = _("請上傳 .xlsx 或 .csv 檔案。")
MSG_TOO_BIG = _("檔案超過 %(mb)s MB 的上限，請分成數個檔案上傳；未寫入任何資料。")
MSG_NONE_SELECTED = _("請先勾選要啟用的教師。")
# The worker cannot see the stored file: not the school's fault, and said so.
MSG_FILE_GONE = _(
    "伺服器找不到這次上傳的檔案（已逾期清除，或處理程序讀不到網站存放上傳檔的目錄），"
    "這不是檔案內容的問題；請重新上傳，若仍發生請聯絡系統管理者。"
)


def upload_dir() -> Path:
    """settings.ROSTER_UPLOAD_DIR: under the media root's transient folder, which the worker shares
    (never the web process's own /tmp) and which is purged after a day (core.transient)."""
    path = Path(settings.ROSTER_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def roster_upload_submit(*, actor: User, unit, uploaded) -> RosterUpload:
    """批次上傳: keep the file and queue its import; the page then follows the upload's status."""
    services._require_manager(actor, unit)
    suffix = Path(uploaded.name or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise services.RosterError(MSG_BAD_TYPE, code="bad_file_type", kind=Kind.INVALID)
    if uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise services.RosterError(
            MSG_TOO_BIG % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)},
            code="file_too_big",
            kind=Kind.INVALID,
        )
    stored = upload_dir() / f"roster-{uuid.uuid4().hex}{suffix}"
    with open(stored, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    upload = RosterUpload.objects.create(
        unit=unit, actor=actor, file_name=Path(uploaded.name).name[:200], stored_path=str(stored)
    )
    from teachers.tasks import import_roster_upload  # teachers.tasks imports this module

    transaction.on_commit(lambda: import_roster_upload.delay(upload.pk))
    return upload


# The reaper (core.reaper, Celery beat) ----------------------------------------------------------

ROSTER_UPLOAD_LOCK_CLASS = 7_119  # first key of pg_advisory_lock(class, upload id): the worker's hold
MSG_UPLOAD_INTERRUPTED = _(
    "處理程序在處理途中停止（工作程序中斷），名單沒有寫入任何資料；上傳的檔案已刪除，請重新上傳檔案。"
)
MSG_UPLOAD_LOST = _(
    "此上傳排隊超過 %(minutes)s 分鐘仍未開始處理（背景工作佇列可能已遺失），名單沒有寫入任何資料；"
    "上傳的檔案已刪除，請重新上傳檔案。"
)


def _upload_interrupted(upload: RosterUpload, message: str | None = None) -> dict:
    message = message or str(MSG_UPLOAD_INTERRUPTED)
    return {
        "status": UploadStatus.INTERRUPTED,
        "summary": message[:300],
        "messages": [message],
        "finished_at": timezone.now(),
    }


def _upload_lost(upload: RosterUpload) -> dict:
    minutes = int(reaper.UPLOAD_QUEUE_TIMEOUT.total_seconds() // 60)
    return _upload_interrupted(upload, str(MSG_UPLOAD_LOST) % {"minutes": minutes})


def _upload_discard_file(upload: RosterUpload) -> None:
    """A reaped upload's file carries national IDs: it goes at once, not a day later."""
    if upload.stored_path:
        Path(upload.stored_path).unlink(missing_ok=True)
        Path(upload.stored_path).with_name(Path(upload.stored_path).stem + "-engine.csv").unlink(
            missing_ok=True
        )
    RosterUpload.objects.filter(pk=upload.pk).update(stored_path="")
    upload.stored_path = ""


# A roster upload whose worker died (it no longer holds the upload's advisory lock), or one 等待處理
# longer than reaper.UPLOAD_QUEUE_TIMEOUT that no worker took, becomes 中斷 and its file is deleted
# (registered in teachers.apps). Without PostgreSQL nothing tells a dead worker: never reaped.
ROSTER_UPLOAD_JOB = reaper.JobKind(
    key="teachers.roster_upload",
    model=RosterUpload,
    working={"status": UploadStatus.RUNNING},
    interrupted=_upload_interrupted,
    lock_class=ROSTER_UPLOAD_LOCK_CLASS,
    on_interrupted=_upload_discard_file,
    queued={"status": UploadStatus.QUEUED},
    lost=_upload_lost,
    queued_timeout=reaper.UPLOAD_QUEUE_TIMEOUT,
    queued_since=("created_at",),
)


def _pause_for_tests() -> None:
    # The killed-worker test holds the upload here, 檢查與匯入中, to kill its worker. Unset in production.
    seconds = float(os.environ.get("INSERVICE_UPLOAD_PAUSE_SECONDS", "0") or 0)
    if seconds:
        time.sleep(seconds)


def _school_date(value: str, column: str, errors: list[str]) -> str:
    """A date of the school's file (ROC as 資料下載 writes it, or ISO) as ISO text; '' when blank."""
    value = value.strip()
    if not value:
        return ""
    try:
        return roc.parse_date(value).isoformat()
    except ValueError:
        errors.append(MSG_SCHOOL_DATE.format(column=column))
        return ""


def _school_row(values: list[str], unit_code: str, known_subjects: set[str], unescape) -> tuple[list, list]:
    """One row of the school's file as an engine row (SPEC §8 roster columns), and its problems."""
    nid, name, category, title, subjects, email, start, *rest = (unescape(v.strip()) for v in values)
    end, reason = (rest + ["", ""])[:2]
    problems: list[str] = []
    names = [n for n in SUBJECT_SPLIT.split(subjects) if n] if subjects else []
    problems += [MSG_UNKNOWN_SUBJECT.format(name=n) for n in dict.fromkeys(names) if n not in known_subjects]
    if start:
        start_iso = _school_date(start, "到職", problems)
    else:
        start_iso = ""
        problems.append(MSG_REQUIRED.format(column="到職日期"))
    end_iso = _school_date(end, "離職", problems)
    row = [nid, name, email, unit_code, category, title, ";".join(names), start_iso, end_iso, reason]
    # Written to a CSV the engine reads: a cell a spreadsheet would run stays text (undone there).
    return [escape_formula(cell) for cell in row], problems


def _spec_row(values: list[str], unit_code: str, unescape) -> tuple[list, list]:
    """A row in the SPEC §8 columns: passed on as it is, unless it names another unit."""
    row = list(values) + [""] * (len(importers.COLUMNS) + 1 - len(values))
    if unescape(row[3].strip()) != unit_code:
        return row, [MSG_FOREIGN_UNIT.format(code=unit_code)]
    return row, []


def _open_rows(path: Path, errors: ErrorList):
    """(table, its rows) in the school's columns or else the SPEC §8 ones; a file with neither
    header is refused naming the school's columns."""
    limit = settings.UPLOAD_MAX_ROWS
    school = Table(path, SCHOOL_COLUMNS, errors=ErrorList(), optional_columns=SCHOOL_OPTIONAL, max_rows=limit)
    rows = school.rows()
    try:
        first = next(rows, None)
    except ImportRefused as refused:
        school_refusal = refused
    else:
        school.errors = errors
        return school, itertools.chain([first] if first is not None else [], rows)
    spec = Table(
        path, importers.COLUMNS, errors=errors, optional_columns=importers.OPTIONAL_COLUMNS, max_rows=limit
    )
    rows = spec.rows()
    try:
        first = next(rows, None)
    except ImportRefused:
        raise school_refusal from None
    return spec, itertools.chain([first] if first is not None else [], rows)


def rewrite_for_engine(path: Path, unit, errors: ErrorList) -> Path:
    """The school's file rewritten as an engine roster CSV, each row on its own line number.

    Rows with a problem of their own are added to `errors` and left blank in the rewrite (the
    engine skips blank rows but counts them), so the engine's messages name the school's lines.
    A file-level problem raises ImportRefused.
    """
    table, rows = _open_rows(path, errors)
    target = path.with_name(path.stem + "-engine.csv")
    try:
        _write_rewrite(target, table, rows, unit, errors)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _write_rewrite(target: Path, table: Table, rows, unit, errors: ErrorList) -> None:
    known_subjects = set(Subject.objects.values_list("name", flat=True))
    with open(target, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow((*importers.COLUMNS, *importers.OPTIONAL_COLUMNS))
        written = 1
        for line, values in rows:
            if line >= SHEET_SPAN:
                errors.add(line, MSG_FIRST_SHEET_ONLY)
                continue
            if table.columns == SCHOOL_COLUMNS:
                row, problems = _school_row(values, unit.code, known_subjects, table.unescape)
            else:
                row, problems = _spec_row(values, unit.code, table.unescape)
            writer.writerows([[]] * (line - written - 1))
            written = line
            if problems:
                errors.add_all(line, problems)
                writer.writerow([])
            else:
                writer.writerow(row)


def import_school_file(path: Path, unit) -> dataexchange.ImportResult:
    """The school's file through the engine, all or nothing, every problem in one pass."""
    errors = ErrorList()
    rewritten = rewrite_for_engine(path, unit, errors)
    try:
        with transaction.atomic():
            try:
                # The school's file changes only people the school serves now (teachers.importers).
                result = dataexchange.import_file(importers.KIND.name, rewritten, unit_id=unit.pk)
            except ImportRefused as refused:
                for line, reason in refused.errors.items():
                    errors.add(line, reason)
                errors.total += refused.errors.total - len(refused.errors.items())
                raise ImportRefused(errors) from None
            if errors:  # the other rows were good: the import is undone, the file refused
                transaction.set_rollback(True)
                raise ImportRefused(errors)
    finally:
        rewritten.unlink(missing_ok=True)
    return result


def roster_upload_process(upload_id: int) -> RosterUpload:
    """The task's body: claim the queued upload and hold its advisory lock while the worker lives
    (core.reaper tells a dead worker by it), then _roster_upload_import."""
    with reaper.held(ROSTER_UPLOAD_LOCK_CLASS, upload_id):
        # A conditional claim: a task delivered twice, or one arriving after the reaper marked the
        # upload lost, works once or not at all.
        claimed = RosterUpload.objects.filter(pk=upload_id, status=UploadStatus.QUEUED).update(
            status=UploadStatus.RUNNING
        )
        upload = RosterUpload.objects.select_related("unit").get(pk=upload_id)
        if not claimed:
            return upload
        _pause_for_tests()
        return _roster_upload_import(upload)


def _roster_upload_import(upload: RosterUpload) -> RosterUpload:
    """The school's file through the engine (import_school_file); the file is then removed."""
    path = Path(upload.stored_path)
    if not path.is_file():
        logger.error("roster upload %s: stored file missing at processing time", upload.pk)
        upload.status = UploadStatus.REFUSED
        upload.summary = str(MSG_FILE_GONE)[:300]
        upload.messages = [str(MSG_FILE_GONE)]
        upload.finished_at = timezone.now()
        upload.stored_path = ""
        upload.save()
        return upload
    try:
        result = import_school_file(path, upload.unit)
    except ImportRefused as refused:
        upload.status = UploadStatus.REFUSED
        upload.summary = str(refused)[:300]
        upload.messages = refused.messages
    else:
        upload.status = UploadStatus.DONE
        upload.summary = result.summary()[:300]
        upload.messages = list(result.notices)
    finally:
        path.unlink(missing_ok=True)
    upload.finished_at = timezone.now()
    upload.stored_path = ""
    upload.save()
    return upload


def teacher_accounts_enable(*, actor: User, unit, membership_ids) -> tuple[list[str], list[str]]:
    """啟用教師帳號 for several teachers at once: each one through `teacher_account_enable`.

    Only current memberships of the actor's own unit are considered (others are ignored as if
    absent). Returns the masked names enabled and the messages of those that could not be.
    """
    services._require_manager(actor, unit)
    ids = {int(i) for i in membership_ids if str(i).isdigit()}
    if not ids:
        raise services.RosterError(MSG_NONE_SELECTED, code="none_selected", kind=Kind.INVALID)
    chosen = Membership.objects.filter(unit=unit, end_date__isnull=True, pk__in=ids).select_related("person")
    enabled, refused = [], []
    for membership in chosen.order_by("person__name", "pk"):
        masked = mask_name(membership.person.name)
        try:
            services.teacher_account_enable(actor=actor, person=membership.person)
        except services.RosterError as exc:
            refused.append(f"{masked}：{exc.message}")
        else:
            enabled.append(masked)
    return enabled, refused
