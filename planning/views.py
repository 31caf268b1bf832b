"""Planning screens (SPEC §6): the two plans, the survey, 填報率, 統計專區, 說明手冊, 最新消息."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.permissions import Perm, requires
from core.fonts import FontMissing
from core.refusals import Kind, refused_json, refused_response
from core.roc import format_roc_datetime
from core.uploads import limited_upload
from planning import aggregates, clock, exports, guide, selectors, services
from planning.choices import Question
from planning.forms import AnnouncementForm, ReopenForm, SchoolPlanForm, SurveyForm, TeacherPlanForm
from planning.models import PlanKind
from planning.services import PlanningError
from planning.statistics import needs_table


def _autosave(request) -> bool:
    return request.headers.get("X-Autosave") == "1"


def _saved_json(plan) -> JsonResponse:
    saved = format_roc_datetime(timezone.localtime(plan.updated_at))
    return JsonResponse({"saved": True, "message": _("草稿已自動儲存（%(at)s）") % {"at": saved}})


MSG_FORM_INVALID = gettext_lazy("有欄位需要修正，草稿未儲存。")


def _form_refused(form) -> JsonResponse:
    """An autosave of a form with field errors: nothing saved, answered as a refusal in JSON (400),
    the field errors as its details (the page itself re-renders the form instead)."""
    details = [
        f"{form[name].label}：{message}" if name in form.fields else str(message)
        for name, messages_ in form.errors.items()
        for message in messages_
    ]
    error = PlanningError(MSG_FORM_INVALID, code="form_invalid", kind=Kind.INVALID, details=details)
    return refused_json(error, saved=False)


def _refused(request, template: str, context: dict, error: PlanningError):
    """core.refusals' answer: 403 out of scope, 409 a closed window or a submitted plan; the
    autosave gets the same code, message and status as JSON."""
    if _autosave(request):
        return refused_json(error, saved=False)
    return refused_response(request, error, template, context)


def _outside(request, context: dict, cycle, not_in_scope) -> HttpResponse:
    """The plan page of an actor outside the plans' scope: refused (403, through core.refusals);
    before any cycle the page only says the plans are not open yet (200)."""
    if cycle is None:
        context["error"] = services.MSG_NO_CYCLE
        return render(request, "planning/not_in_scope.html", context)
    refusal = PlanningError(not_in_scope, code="not_in_scope", kind=Kind.FORBIDDEN)
    return refused_response(request, refusal, "planning/not_in_scope.html", context)


def _editable(state, plan) -> bool:
    """A draft (or nothing yet) inside the window, or inside the plan's recorded extension."""
    if plan is not None and plan.submitted_at is not None:
        return False
    return state.is_open or (
        plan is not None and state.window is not None and plan.extension_open(clock.now())
    )


def _session_seconds() -> int:
    return settings.SESSION_COOKIE_AGE


@requires(Perm.SCHOOL_PLAN)
@require_http_methods(["GET", "POST"])
def school_plan(request):
    """學校本位進修規劃: the school's representative drafts and 確認送出 the school's plan."""
    cycle = services.current_cycle()
    school = permissions.unit_of(request.user)
    context = {"cycle": cycle, "school": school, "session_seconds": _session_seconds()}
    if cycle is None or not services.school_in_scope(school):
        return _outside(request, context, cycle, services.MSG_SCHOOL_NOT_IN_SCOPE)
    plan = selectors.school_plan(school, cycle.year)
    state = selectors.window_state(cycle, PlanKind.SCHOOL, school.authority_id)
    editable = _editable(state, plan)
    initial = SchoolPlanForm.initial_from(plan)
    if plan is not None:
        initial["student_count"] = plan.student_count
    form = SchoolPlanForm(initial=initial, read_only=not editable)
    context.update(plan=plan, state=state, editable=editable, form=form)
    context["snapshot"] = selectors.snapshot_list(cycle, school)
    if request.method == "POST":
        submit = request.POST.get("action") == "submit"
        form = SchoolPlanForm(request.POST, submitting=submit)
        context["form"] = form
        if form.is_valid():
            try:
                plan = services.school_plan_save(
                    actor=request.user,
                    student_count=form.cleaned_data["student_count"],
                    answers=form.answers(),
                    submit=submit,
                )
            except PlanningError as error:
                context["form"] = SchoolPlanForm(initial=initial, read_only=True)
                context["editable"] = False
                return _refused(request, "planning/school_plan.html", context, error)
            if _autosave(request):
                return _saved_json(plan)
            if submit:
                messages.success(request, _("學校本位進修規劃已確認送出。"))
                return redirect("planning:survey", kind=PlanKind.SCHOOL)
            messages.success(request, _("草稿已儲存，可繼續修改；請於截止前按「確認送出」。"))
            return redirect("planning:school-plan")
        if _autosave(request):
            return _form_refused(form)
    return render(request, "planning/school_plan.html", context)


@requires(Perm.TEACHER_PLAN)
@require_http_methods(["GET", "POST"])
def teacher_plan(request):
    """教師自我進修規劃: the school's plan for reference, then the teacher's own needs and hours."""
    if request.method == "POST":
        submit = request.POST.get("action") == "submit"
        form = TeacherPlanForm(request.POST, submitting=submit)
        if form.is_valid():
            # The service decides everything (scope, window, once); the page is built only to show a refusal.
            try:
                plan = services.teacher_plan_save(
                    actor=request.user, answers=form.answers(), hours=form.hours(), submit=submit
                )
            except PlanningError as error:
                if _autosave(request):
                    return refused_json(error, saved=False)
                return _teacher_page(request, error=error)
            if _autosave(request):
                return _saved_json(plan)
            if submit:
                messages.success(request, _("教師自我進修規劃已確認送出。"))
                return redirect("planning:survey", kind=PlanKind.TEACHER)
            messages.success(request, _("草稿已儲存，可繼續修改；請於截止前按「確認送出」。"))
            return redirect("planning:teacher-plan")
        if _autosave(request):
            return _form_refused(form)
        return _teacher_page(request, bound_form=form)
    return _teacher_page(request)


def _teacher_page(request, *, bound_form=None, error: PlanningError | None = None):
    cycle = services.current_cycle()
    context = {"cycle": cycle, "session_seconds": _session_seconds()}
    today = timezone.localtime(clock.now()).date()
    school = services.teacher_school(request.user.person, today) if cycle else None
    if school is None:
        return _outside(request, context, cycle, services.MSG_TEACHER_NOT_IN_SCOPE)
    plan = selectors.teacher_plan(request.user.person_id, cycle.year)
    state = selectors.window_state(cycle, PlanKind.TEACHER, school.authority_id)
    editable = error is None and _editable(state, plan)
    form = bound_form or TeacherPlanForm(initial=TeacherPlanForm.initial_from(plan), read_only=not editable)
    reference = selectors.school_plan(school, cycle.year)
    context.update(
        school=school,
        plan=plan,
        state=state,
        editable=editable,
        form=form,
        school_plan=reference,
        school_plan_form=SchoolPlanForm(initial=SchoolPlanForm.initial_from(reference), read_only=True)
        if reference is not None and reference.submitted_at
        else None,
        progress=selectors.hours_progress(request.user.person_id, cycle.year, plan),
        suggestions=selectors.suggested_courses(plan, school.authority_id),
        snapshot_entry=selectors.teacher_snapshot(cycle, request.user.person_id),
    )
    if error is not None:
        return refused_response(request, error, "planning/teacher_plan.html", context)
    return render(request, "planning/teacher_plan.html", context)


@login_required
def school_plan_detail(request, pk: int):
    """A school's plan, read-only, for those who may see it; anyone else gets 404."""
    plan = selectors.school_plan_visible_to(request.user, pk)
    if plan is None:
        raise Http404
    form = SchoolPlanForm(
        initial={**SchoolPlanForm.initial_from(plan), "student_count": plan.student_count}, read_only=True
    )
    may_reopen = permissions.has_perm(request.user, Perm.PLAN_REOPEN)
    context = {"plan": plan, "form": form, "may_reopen": may_reopen}
    context["school_hours"] = aggregates.school_hours(year=plan.year, school_id=plan.school_id)
    return render(request, "planning/school_plan_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reopen_plan(request, kind: str, pk: int):
    """退回修改: the school's authority (while open) or the operator makes a submitted plan a draft again."""

    if kind not in PlanKind.values:
        raise Http404
    plan = selectors.plan_to_reopen(PlanKind(kind), pk)
    may_extend = permissions.has_perm(request.user, Perm.PLAN_EXTEND)
    form = ReopenForm(request.POST or None, operator=may_extend)
    context = {
        "plan": plan,
        "kind": kind,
        "kind_label": PlanKind(kind).label,
        "form": form,
        "may_extend": may_extend,
        "may_reopen": False,
    }
    try:
        services.plan_reopen_allowed(request.user, PlanKind(kind), plan)
        context["may_reopen"] = True
        context["reopenings"] = plan.reopenings.select_related("reopened_by")
        if request.method == "POST" and form.is_valid():
            services.plan_reopen(
                actor=request.user,
                kind=PlanKind(kind),
                plan_id=plan.pk,
                reason=form.cleaned_data["reason"],
                extended_until=form.extended_until(),
            )
            messages.success(request, _("規劃已退回為草稿，並已記錄原因、以電子郵件通知填報者。"))
            return redirect("planning:reopen", kind=kind, pk=plan.pk)
    except PlanningError as error:
        if plan is not None:
            context.setdefault("reopenings", plan.reopenings.select_related("reopened_by"))
        return refused_response(request, error, "planning/reopen.html", context)
    return render(request, "planning/reopen.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def survey(request, kind: str):
    """滿意度問卷, offered after 確認送出: short, optional, once per plan."""
    if kind not in PlanKind.values:
        raise Http404
    permissions.require(request.user, Perm.SCHOOL_PLAN if kind == PlanKind.SCHOOL else Perm.TEACHER_PLAN)
    back = "planning:school-plan" if kind == PlanKind.SCHOOL else "planning:teacher-plan"
    form = SurveyForm(request.POST or None)
    context = {"form": form, "back": back, "kind": kind}
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_answer(actor=request.user, kind=PlanKind(kind), **form.cleaned_data)
        except PlanningError as error:
            return refused_response(request, error, "planning/survey.html", context)
        messages.success(request, _("感謝您填寫滿意度問卷。"))
        return redirect(back)
    return render(request, "planning/survey.html", context)


@login_required
def keepalive(request):
    """The session-extend button: any signed-in request renews the idle timer (SESSION_SAVE_EVERY_REQUEST)."""
    request.session["planning_keepalive"] = timezone.now().isoformat()
    return JsonResponse({"seconds": _session_seconds()})


# ---------------------------------------------------------------- 填報率


def _percent(rate) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.1f}%"


@requires(Perm.FILL_RATES)
def fill_rates(request):
    """填報率 (live): a centre sees its schools, the operator every authority and the national figure."""
    cycle = selectors.cycle_of_year(request.GET.get("year")) or services.current_cycle()
    if cycle is None:
        return render(request, "planning/fill_rates.html", {"cycle": None})
    context = selectors.fill_rate_report(
        request.user, cycle, sort=request.GET.get("sort", "code"), descending=request.GET.get("dir") == "desc"
    )
    rows = context["rows"]
    if request.GET.get("download") == "csv":
        return exports.fill_rates_response(cycle.year, rows, national=context["national"])
    context["percent"] = _percent
    for row in rows:
        row["school_rate_text"] = _percent(row["school_rate"]) if context["national"] else ""
        row["teacher_rate_text"] = _percent(row["teacher_rate"])
    for name in ("national_school", "national_teacher", "summary_school", "summary_teacher"):
        if name in context:
            context[f"{name}_text"] = _percent(context[name].rate)
    return render(request, "planning/fill_rates.html", context)


# ---------------------------------------------------------------- 統計專區


def statistics(request):
    """統計專區 (public once published): needs by authority × stage × option, chart and table."""
    context = {**selectors.statistics_cycles(request.user), "questions": Question.choices}
    cycles = context["cycles"]
    if not cycles:
        return render(request, "planning/statistics.html", context)
    year = request.GET.get("year", "")
    cycle = next((c for c in cycles if str(c.year) == year), cycles[0])
    question = request.GET.get("question", Question.MODE)
    if question not in Question.values:
        question = Question.MODE
    table = needs_table(cycle, question)
    if request.GET.get("download") == "csv":
        return exports.needs_response(cycle.year, question, table)
    context.update(
        cycle=cycle,
        question=question,
        table=table,
        chart={"title": table["question_label"], "labels": table["labels"], "values": table["totals"]},
    )
    return render(request, "planning/statistics.html", context)


@requires(Perm.STATISTICS_PUBLISH)
@require_POST
def statistics_publish(request):
    """The operator publishes (or withdraws) a cycle's 統計專區."""
    cycle = selectors.cycle_of_year(request.POST.get("year"))
    if cycle is None:
        raise Http404
    publish = request.POST.get("action") == "publish"
    services.statistics_publish(actor=request.user, cycle_id=cycle.pk, publish=publish)
    messages.success(request, _("統計專區已公告。") if publish else _("統計專區已撤下。"))
    return redirect("planning:statistics")


# ---------------------------------------------------------------- 說明手冊


def guide_page(request):
    """說明手冊: both forms step by step, with the windows of the reader's authority."""
    sections = guide.sections(*selectors.guide_windows(request.user))
    return render(request, "planning/guide.html", {"title": guide.TITLE, "sections": sections})


def guide_pdf(request):
    """The same text as a PDF with one bookmark per section."""
    try:
        content = guide.guide_pdf(*selectors.guide_windows(request.user))
    except FontMissing as missing:
        # Said as it is, never a silent 404 (the operator installs fonts-noto-cjk).
        return HttpResponse(missing.message, status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="planning-guide.pdf"'
    return response


# ---------------------------------------------------------------- 最新消息


def announcements(request):

    items = selectors.announcements_for(request.user)
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "planning/announcements.html",
        {
            "page": page,
            "open_windows": selectors.open_window_announcements(),
            "may_announce": services.may_announce(request.user),
            "today": timezone.localdate(),
        },
    )


@limited_upload(limit_setting="ANNOUNCEMENT_ATTACHMENT_MAX_BYTES")  # bounded while read (core.uploads)
@requires(Perm.ANNOUNCE)
@require_http_methods(["GET", "POST"])
def announcement_new(request):

    form = AnnouncementForm(
        request.POST or None, request.FILES or None, initial={"published_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.announcement_publish(actor=request.user, **form.cleaned_data)
        except PlanningError as error:
            return refused_response(request, error, "planning/announcement_new.html", {"form": form})
        messages.success(request, _("最新消息已發布。"))
        return redirect("planning:announcements-mine")
    return render(request, "planning/announcement_new.html", {"form": form})


@requires(Perm.ANNOUNCE)
def announcements_mine(request):
    """最新消息管理: the unit's own items, scheduled ones marked 排程中, each with 編輯 and 撤下."""

    page = Paginator(selectors.own_announcements(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "planning/announcements_mine.html", {"page": page, "today": timezone.localdate()})


@limited_upload(limit_setting="ANNOUNCEMENT_ATTACHMENT_MAX_BYTES")  # bounded while read (core.uploads)
@requires(Perm.ANNOUNCE)
@require_http_methods(["GET", "POST"])
def announcement_edit(request, pk: int):

    item = get_object_or_404(selectors.own_announcements(request.user), pk=pk)
    initial = {"title": item.title, "body": item.body, "published_on": item.published_on}
    form = AnnouncementForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.announcement_edit(actor=request.user, pk=item.pk, **form.cleaned_data)
        except PlanningError as error:
            context = {"form": form, "item": item}
            return refused_response(request, error, "planning/announcement_new.html", context)
        messages.success(request, _("最新消息已更新。"))
        return redirect("planning:announcements-mine")
    return render(request, "planning/announcement_new.html", {"form": form, "item": item})


@requires(Perm.ANNOUNCE)
@require_http_methods(["GET", "POST"])
def announcement_withdraw(request, pk: int):
    """撤下 asks first (GET shows the item and a confirm button); POST removes it."""
    item = get_object_or_404(selectors.own_announcements(request.user), pk=pk)
    if request.method == "POST":
        try:
            services.announcement_withdraw(actor=request.user, pk=item.pk)
        except PlanningError as error:
            return refused_response(request, error, "planning/announcement_withdraw.html", {"item": item})
        messages.success(request, _("已撤下最新消息「%(title)s」。") % {"title": item.title})
        return redirect("planning:announcements-mine")
    return render(request, "planning/announcement_withdraw.html", {"item": item})


def announcement_attachment(request, pk: int):
    item = selectors.announcements_for(request.user).filter(pk=pk).exclude(attachment="").first()
    if item is None:
        raise Http404
    return FileResponse(
        item.attachment.open("rb"), as_attachment=True, filename=f"announcement-{item.pk}.pdf"
    )
