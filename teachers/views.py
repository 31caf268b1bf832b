"""Roster screens (attachment 一): 申請教師帳號, 修改個人基本資料, 本單位教師帳號管理 with 資料下載,
編輯帳號個人資料, 啟用教師帳號, 教師資料登錄, 離職/轉校/退休, and the centre's counts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import applying, permissions, security_log
from accounts import national_id as national_id_module
from accounts.models import SecurityEventKind
from accounts.permissions import Perm, requires
from core import exports as core_exports
from core.refusals import raise_denial, refused_response
from core.roc import academic_year, format_roc_date, semester
from teachers import exports, selectors, services
from teachers.forms import (
    EndMembershipForm,
    MembershipForm,
    ProfileForm,
    RegisterForm,
    RosterFilterForm,
    TeacherApplyForm,
)
from teachers.models import AccountStatus


def _refused(request, template, context, error: services.RosterError):
    return refused_response(request, error, template, context)


# ------------------------------------------------------------------------------------------------
# Public: 申請教師帳號


@require_http_methods(["GET", "POST"])
def apply(request):
    """申請教師帳號: the same 申請已送出 page whatever the ID; nothing on the roster changes."""
    form = TeacherApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The per-client limit answers 429 (it says nothing about the ID). Past the per-ID limit
        # the answer is the usual receipt, at the usual cost, and nothing is stored or sent: the
        # limit must not tell that an ID is being asked about, nor let anyone block a teacher by
        # applying in their name (issue 16 point 8; as 帳號漫遊 by ID in teachers.sso_views).
        if not applying.allowed_client(request, services.APPLY_ACTION):
            return render(request, "teachers/apply_throttled.html", status=429)
        if applying.allowed_id(request, services.APPLY_ACTION, data["national_id"]):
            services.teacher_account_apply(
                national_id=data["national_id"],
                name=data["name"],
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                site=request.build_absolute_uri("/"),
            )
        else:
            services.teacher_application_discard(password=data["password1"])
        return redirect("teachers:apply-done")
    return render(request, "teachers/apply.html", {"form": form})


def apply_done(request):
    return render(request, "teachers/apply_done.html")


@require_http_methods(["GET", "POST"])
def activate(request, token: str):
    """The e-mailed link: GET asks for confirmation (mail scanners follow links), POST activates."""
    try:
        application = services.application_from_token(token)
    except services.RosterError as error:
        return render(request, "teachers/activate.html", {"error": error.message}, status=error.status)
    if request.method == "POST":
        try:
            services.teacher_account_activate(token=token)
        except services.RosterError as error:
            return render(request, "teachers/activate.html", {"error": error.message}, status=error.status)
        messages.success(request, _("教師帳號已啟用，請以申請的使用者帳號及密碼登入。"))
        return redirect("account_login")
    return render(request, "teachers/activate.html", {"application": application})


# ------------------------------------------------------------------------------------------------
# Teacher: 修改個人基本資料


@requires(Perm.PROFILE_EDIT)
@require_http_methods(["GET", "POST"])
def profile(request):
    membership = selectors.own_current_membership(request.user)
    history = list(selectors.service_history(request.user.person)) if request.user.person_id else []
    form = None
    if membership is not None:
        subjects = selectors.subject_choices(membership.unit)
        initial = {"title": membership.title, "subjects": list(membership.subjects.all())}
        form = ProfileForm(request.POST or None, initial=initial, subjects=subjects)
        if request.method == "POST" and form.is_valid():
            try:
                services.own_profile_update(
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    subjects=form.cleaned_data["subjects"],
                )
            except services.RosterError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("已更新個人基本資料。"))
                return redirect("teachers:profile")
    today = timezone.localdate()
    return render(
        request,
        "teachers/profile.html",
        {
            "membership": membership,
            "form": form,
            "history": history,
            "semester": _("%(year)s學年度第%(n)s學期") % {"year": academic_year(today), "n": semester(today)},
        },
    )


# ------------------------------------------------------------------------------------------------
# Business accounts: 本單位教師帳號管理


def _unit_or_403(request):
    unit = selectors.managed_unit(request.user)
    if unit is None:
        raise PermissionDenied
    return unit


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
def roster(request):
    """本單位教師帳號管理: counts, 教師姓名查詢, 進階篩選, the table, 資料下載."""
    unit = _unit_or_403(request)
    subjects = list(selectors.subject_choices(unit))
    form = RosterFilterForm(request.GET or None, subjects=subjects, min_hours=settings.SUPERVISION_MIN_HOURS)
    filters = form.cleaned_data if form.is_valid() else {}
    criteria = {
        "name": filters.get("q", ""),
        "subject_id": filters.get("subject"),
        "below_supervision": filters.get("supervision", False),
        "state": filters.get("state") or "",
    }
    size = filters.get("size") or selectors.PAGE_SIZES[0]
    page = selectors.roster_page(
        selectors.filtered_roster(unit, **criteria), number=request.GET.get("page"), size=size
    )
    for membership in page:
        membership.status = selectors.roster_state(membership)
        membership.account = getattr(membership.person, "teacher_account", None)
        membership.application = selectors.waiting_application(membership.person)
        # 批次啟用 takes a 停用中 account, or an application whose e-mail is the trusted address.
        membership.bulk_enable = membership.status == AccountStatus.DISABLED or (
            membership.status == selectors.RosterState.APPLIED
            and selectors.application_matches_roster(membership, membership.application)
        )
    return render(
        request,
        "teachers/roster.html",
        {
            "unit": unit,
            "counts": selectors.roster_counts(unit),
            "form": form,
            "page": page,
            "filtered": any(criteria.values()),
            "statuses": selectors.RosterState,
            "undoable": list(services.undoable_endings(unit)[:20]),
            "undo_days": services.UNDO_END_DAYS,
        },
    )


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
def download(request):
    """資料下載: the whole current roster as .xlsx (national IDs included: this file only); recorded."""
    unit = _unit_or_403(request)
    filename = f"{unit.code}-教師名單-{format_roc_date(timezone.localdate())}.xlsx"
    response = core_exports.xlsx_response([exports.roster_table(unit)], filename)
    services.roster_download_record(actor=request.user, unit=unit, rows=response.rows)
    return response


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def member(request, pk: int):
    """檢視資料 → 編輯帳號個人資料: 更新教師資料 / 取消, and 啟用教師帳號."""
    membership = selectors.membership_for_manager(request.user, pk)
    subjects = selectors.subject_choices(membership.unit)
    initial = {
        "category": membership.category,
        "title": membership.title,
        "subjects": list(membership.subjects.all()),
        "email": membership.person.email,
    }
    form = MembershipForm(request.POST or None, initial=initial, subjects=subjects)
    application = selectors.waiting_application(membership.person)
    context = {
        "membership": membership,
        "form": form,
        "status": selectors.account_status(membership),
        "account": getattr(membership.person, "teacher_account", None),
        "application": application,
        "application_matches": selectors.application_matches_roster(membership, application),
        "history": selectors.service_history(membership.person),
        "statuses": AccountStatus,
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(actor=request.user, membership=membership, **form.cleaned_data)
        except services.RosterError as error:
            return _refused(request, "teachers/member.html", context, error)
        messages.success(request, _("已更新 %(name)s 的教師資料。") % {"name": membership.person.masked_name})
        return redirect("teachers:roster")
    return render(request, "teachers/member.html", context)


def _account_action(request, pk: int, service, done: str, **options):
    membership = selectors.membership_for_manager(request.user, pk)
    try:
        service(actor=request.user, person=membership.person, **options)
    except services.RosterError as error:
        raise_denial(error)
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"name": membership.person.masked_name})
    return redirect("teachers:member", pk=membership.pk)


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_POST
def enable(request, pk: int):
    # The application the manager confirmed on 檢視資料 (its e-mail differs from the roster's).
    confirmed = request.POST.get("application")
    return _account_action(
        request,
        pk,
        services.teacher_account_enable,
        _("已啟用 %(name)s 的教師帳號。"),
        confirmed_application=int(confirmed) if confirmed and confirmed.isdigit() else None,
    )


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_POST
def disable(request, pk: int):
    return _account_action(request, pk, services.teacher_account_disable, _("已停用 %(name)s 的教師帳號。"))


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def end(request, pk: int):
    """離職/轉校/退休: the form, then a confirmation step, then the change."""
    membership = selectors.membership_for_manager(request.user, pk)
    form = EndMembershipForm(request.POST or None)
    context = {"membership": membership, "form": form, "confirming": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The date and reason are checked before the confirmation step, not after it.
            services.membership_end_check(
                actor=request.user, membership=membership, reason=data["reason"], on=data["end_date"]
            )
        except services.RosterError as error:
            raise_denial(error)
            form.add_error("end_date", error.message)
            return render(request, "teachers/end.html", context, status=error.status)
        if not data["confirmed"]:
            context["confirming"] = True
            context["reason_label"] = dict(form.fields["reason"].choices)[data["reason"]]
            return render(request, "teachers/end.html", context)
        try:
            services.membership_end(
                actor=request.user, membership=membership, reason=data["reason"], on=data["end_date"]
            )
        except services.RosterError as error:
            return _refused(request, "teachers/end.html", context, error)
        messages.success(
            request,
            _("已將 %(name)s 以「%(reason)s」轉出本單位教師名單，服務紀錄保留。")
            % {"name": membership.person.masked_name, "reason": data["reason"]},
        )
        return redirect("teachers:roster")
    return render(request, "teachers/end.html", context)


REGISTER_SESSION_KEY = "teachers.register.pending"
REGISTER_LOOKUP_ACTION = "teacher_register_lookup"


def _pending_registration(data: dict) -> dict:
    """The form's data kept for the confirmation step: the ID encrypted, as in the database."""
    return {
        "nid": national_id_module.encrypt(data["national_id"]),
        "name": data["name"],
        "email": data["email"],
        "category": data["category"],
        "title": data["title"],
        "subjects": [s.pk for s in data["subjects"]],
        "start_date": data["start_date"].isoformat(),
    }


def _registration_from(pending: dict, unit) -> dict:
    return {
        "national_id": national_id_module.decrypt(pending["nid"]),
        "name": pending["name"],
        "email": pending["email"],
        "category": pending["category"],
        "title": pending["title"],
        "subjects": list(selectors.subject_choices(unit).filter(pk__in=pending["subjects"])),
        "start_date": dt.date.fromisoformat(pending["start_date"]),
    }


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def register(request):
    """教師資料登錄: by national ID; one serving elsewhere is moved here after a confirmation step.
    The ID never reaches a URL or the page; each look-up is throttled per manager and audited."""
    unit = _unit_or_403(request)
    confirming = request.method == "POST" and request.POST.get("step") == "confirm"
    form = RegisterForm(
        None if confirming else (request.POST or None), subjects=selectors.subject_choices(unit)
    )
    context = {"unit": unit, "form": form}
    if confirming:
        pending = request.session.get(REGISTER_SESSION_KEY)
        if not pending:
            return redirect("teachers:register")
        data, confirmed = _registration_from(pending, unit), True
    elif request.method == "POST" and form.is_valid():
        if not applying.allowed_user(request, REGISTER_LOOKUP_ACTION):
            return applying.too_many(request)
        security_log.record(SecurityEventKind.ROSTER_LOOKUP, request=request)
        data, confirmed = form.cleaned_data, False
    else:
        return render(request, "teachers/register.html", context)
    try:
        membership = services.teacher_register(actor=request.user, unit=unit, confirmed=confirmed, **data)
    except services.MoveNeedsConfirmation as question:
        request.session[REGISTER_SESSION_KEY] = _pending_registration(data)
        context.update({"question": question, "start_date": data["start_date"]})
        return render(request, "teachers/register_confirm.html", context)
    except services.RosterError as error:
        raise_denial(error)
        request.session.pop(REGISTER_SESSION_KEY, None)
        form.add_error(None, error.message)
        return render(request, "teachers/register.html", context, status=error.status)
    request.session.pop(REGISTER_SESSION_KEY, None)
    name = membership.person.masked_name
    if membership.moved_from is not None:
        messages.success(
            request, _("已登錄 %(name)s，並自其他單位轉入本單位；原單位已收到通知。") % {"name": name}
        )
        if data["email"]:
            messages.info(
                request,
                _("轉入教師的電子郵件未變更；如需更新，請於「編輯帳號個人資料」修改。"),
            )
    else:
        messages.success(request, _("已登錄 %(name)s 至本單位教師名單。") % {"name": name})
    return redirect(reverse("teachers:roster"))


@requires(Perm.UNIT_TEACHER_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def undo_end(request, pk: int):
    """撤銷轉出: GET asks, POST undoes the unit's own recent ending (recorded as 更正)."""
    unit = _unit_or_403(request)
    membership = services.undoable_endings(unit).filter(pk=pk).first()
    if membership is None:
        raise Http404
    if request.method == "POST":
        try:
            services.membership_end_undo(actor=request.user, membership=membership)
        except services.RosterError as error:
            raise_denial(error)
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("已撤銷 %(name)s 的轉出（更正），此教師回到本單位教師名單。")
                % {"name": membership.person.masked_name},
            )
        return redirect("teachers:roster")
    return render(request, "teachers/undo_end.html", {"membership": membership})


# ------------------------------------------------------------------------------------------------
# Regional centre: read-only counts


@requires(Perm.CENTRE_ROSTER_COUNTS)
def centre_counts(request):
    schools = selectors.centre_school_counts(request.user)
    page = Paginator(schools, 50).get_page(request.GET.get("page"))
    return render(
        request, "teachers/centre_counts.html", {"page": page, "authority": permissions.unit_of(request.user)}
    )
