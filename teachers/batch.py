"""Batch work for a school (issue 10 point 8): the unit's roster file, several accounts enabled at once.

The upload is stored, a `RosterUpload` row records it, and a Celery task (`teachers.tasks.
import_roster_upload`, eager on SQLite) runs it through the data-exchange engine
(`core.dataexchange.import_file("roster", …)`): refused whole with the engine's row messages.
A school speaks only for itself: every row must name the school's own unit code, else the file is
refused before the engine runs, with one message per foreign row; and the file may change only
people the school serves now, or create new ones (teachers.importers, `unit_id`).
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.masking import mask_name
from accounts.models import User
from core import dataexchange
from core.dataexchange import ErrorList, ImportRefused, Table
from teachers import importers, services
from teachers.models import Membership, RosterUpload, UploadStatus

MSG_FOREIGN_UNIT = "unit_code 不是本單位的代碼（{code}）：學校只能上傳本單位的教師資料"
MSG_BAD_TYPE = _("請上傳 .xlsx 或 .csv 檔案。")
MSG_TOO_BIG = _("檔案超過 %(mb)s MB 的上限，請分成數個檔案上傳；未寫入任何資料。")
MSG_NONE_SELECTED = _("請先勾選要啟用的教師。")


def upload_dir() -> Path:
    path = Path(
        getattr(settings, "ROSTER_UPLOAD_DIR", "") or Path(tempfile.gettempdir()) / "inservice-uploads"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def submit_roster_upload(*, actor: User, unit, uploaded) -> RosterUpload:
    """批次上傳: keep the file and queue its import; the page then follows the upload's status."""
    services._require_manager(actor, unit)
    suffix = Path(uploaded.name or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise services.RosterError(MSG_BAD_TYPE)
    if uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise services.RosterError(MSG_TOO_BIG % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)})
    stored = upload_dir() / f"roster-{uuid.uuid4().hex}{suffix}"
    with open(stored, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    upload = RosterUpload.objects.create(
        unit=unit, actor=actor, file_name=Path(uploaded.name).name[:200], stored_path=str(stored)
    )
    from teachers.tasks import import_roster_upload

    transaction.on_commit(lambda: import_roster_upload.delay(upload.pk))
    return upload


def _foreign_rows(path: Path, unit_code: str) -> ErrorList:
    """One error per row naming another unit than the school's own; a file past the row limit
    (settings.UPLOAD_MAX_ROWS) is refused here, before the engine reads it."""
    errors = ErrorList()
    table = Table(
        path,
        importers.COLUMNS,
        errors=ErrorList(),
        optional_columns=importers.OPTIONAL_COLUMNS,
        max_rows=settings.UPLOAD_MAX_ROWS,
    )
    try:
        for line, values in table.rows():
            code = table.unescape(values[3].strip())
            if code != unit_code:
                errors.add(line, MSG_FOREIGN_UNIT.format(code=unit_code))
    except ImportRefused:
        if table.over_max_rows:
            return table.errors
        return ErrorList()  # a file-level problem: the engine reports it in its own words
    return errors


def process_roster_upload(upload_id: int) -> RosterUpload:
    """The task's body: refuse foreign rows, else import through the engine; the file is then removed."""
    upload = RosterUpload.objects.select_related("unit").get(pk=upload_id)
    if upload.status != UploadStatus.QUEUED:
        return upload  # a redelivered task: already done
    RosterUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.RUNNING)
    path = Path(upload.stored_path)
    try:
        foreign = _foreign_rows(path, upload.unit.code)
        if foreign:
            raise ImportRefused(foreign)
        # The school's file changes only people the school serves now (teachers.importers).
        result = dataexchange.import_file(importers.KIND.name, path, unit_id=upload.unit_id)
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


def enable_teacher_accounts(*, actor: User, unit, membership_ids) -> tuple[list[str], list[str]]:
    """啟用教師帳號 for several teachers at once: each one through `enable_teacher_account`.

    Only current memberships of the actor's own unit are considered (others are ignored as if
    absent). Returns the masked names enabled and the messages of those that could not be.
    """
    services._require_manager(actor, unit)
    ids = {int(i) for i in membership_ids if str(i).isdigit()}
    if not ids:
        raise services.RosterError(MSG_NONE_SELECTED)
    chosen = Membership.objects.filter(unit=unit, end_date__isnull=True, pk__in=ids).select_related("person")
    enabled, refused = [], []
    for membership in chosen.order_by("person__name", "pk"):
        masked = mask_name(membership.person.name)
        try:
            services.enable_teacher_account(actor=actor, person=membership.person)
        except services.RosterError as exc:
            refused.append(f"{masked}：{exc.message}")
        else:
            enabled.append(masked)
    return enabled, refused
