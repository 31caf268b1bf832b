"""批次上傳 and 批次啟用 of 本單位教師帳號管理 (teachers.batch)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Perm, requires
from core import exports as core_exports
from core.refusals import raise_denial
from core.uploads import limited_upload
from teachers import batch, exports, selectors, services
from teachers.models import RosterUpload, UploadStatus


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("教師名單檔案（.xlsx 或 .csv）"),
        help_text=gettext_lazy(
            "欄位與「資料下載」相同：身分證字號、姓名、類別、職稱、任教科目（以「、」分隔）、帳號狀況、"
            "使用者帳號、電子郵件、到職日期、離職日期、異動原因；日期可寫 113年8月1日、113/8/1 或 "
            "2024-08-01。帳號狀況與使用者帳號僅供核對，上傳時不讀取。"
        ),
    )


def _unit(request):
    unit = selectors.managed_unit(request.user)
    if unit is None:
        raise PermissionDenied
    return unit


@limited_upload  # over UPLOAD_MAX_BYTES: refused while the body is read (core.uploads)
@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def upload(request):
    unit = _unit(request)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = batch.roster_upload_submit(
                actor=request.user, unit=unit, uploaded=form.cleaned_data["file"]
            )
        except services.RosterError as exc:
            raise_denial(exc)
            form.add_error("file", exc.message)
        else:
            return redirect("teachers:upload-status", pk=created.pk)
    recent = RosterUpload.objects.filter(unit=unit).select_related("actor")[:10]
    return render(request, "teachers/upload.html", {"unit": unit, "form": form, "recent": recent})


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
def template(request):
    """批次上傳's template: an .xlsx with the columns of 資料下載 and no row."""
    _unit(request)
    return core_exports.xlsx_response([exports.template_table()], "教師名單範本.xlsx")


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
def upload_status(request, pk: int):
    unit = _unit(request)
    found = RosterUpload.objects.filter(unit=unit, pk=pk).first()
    if found is None:
        raise Http404
    waiting = found.status in (UploadStatus.QUEUED, UploadStatus.RUNNING)
    step = {UploadStatus.QUEUED: 1, UploadStatus.RUNNING: 2}.get(found.status, 3)
    return render(request, "teachers/upload_status.html", {"upload": found, "waiting": waiting, "step": step})


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_POST
def enable_many(request):
    unit = _unit(request)
    try:
        enabled, refused = batch.teacher_accounts_enable(
            actor=request.user, unit=unit, membership_ids=request.POST.getlist("members")
        )
    except services.RosterError as exc:
        raise_denial(exc)
        messages.error(request, exc.message)
        return redirect("teachers:roster")
    if enabled:
        messages.success(
            request,
            _("已啟用 %(n)s 位教師的教師帳號：%(names)s") % {"n": len(enabled), "names": "、".join(enabled)},
        )
    for line in refused:
        messages.warning(request, _("未啟用 %(line)s") % {"line": line})
    if not enabled and not refused:
        messages.error(request, batch.MSG_NONE_SELECTED)
    return redirect("teachers:roster")
