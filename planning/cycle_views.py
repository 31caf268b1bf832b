"""進修規劃年度 for the operator, in the portal (issue 20 point 2): copy, edit, change log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import PLANNING_STAGES
from accounts.permissions import Perm, requires
from core.refusals import refused_response
from planning import cycles, selectors
from planning.forms import CycleForm, WindowForm
from planning.models import PlanningCycle, PlanningWindow
from planning.services import PlanningError


def _found(obj):
    if obj is None:
        raise Http404
    return obj


def _list_context() -> dict:
    rows = list(selectors.cycles_with_window_counts())
    last = rows[0] if rows else None
    return {"cycles": rows, "last": last, "next_year": last.year + 1 if last else None}


@requires(Perm.OPERATOR_ADMIN)
def cycle_list(request):
    """The cycles, newest first, with a button that makes next year's from the last one."""
    return render(request, "planning/cycles.html", _list_context())


@requires(Perm.OPERATOR_ADMIN)
@require_POST
def cycle_copy(request):
    try:
        cycle = cycles.cycle_copy(actor=request.user)
    except PlanningError as error:
        return refused_response(request, error, "planning/cycles.html", _list_context())
    messages.success(
        request,
        _("已建立 %(year)s 學年度：教師名單截止時間與 %(n)s 個填報期程均由上一年度順延一年，請逐一檢查修改。")
        % {"year": cycle.year, "n": selectors.cycle_window_count(cycle)},
    )
    return redirect("planning:cycle", year=cycle.year)


@requires(Perm.OPERATOR_ADMIN)
@require_http_methods(["GET", "POST"])
def cycle_detail(request, year: int):
    """One cycle: its cut-off (a form), the stages in scope (fixed), its windows by kind, its recent changes."""
    cycle = _found(selectors.cycle_of_year(year))
    initial = {"roster_cutoff": cycle.roster_cutoff}
    form = CycleForm(request.POST or None, initial=initial)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            cycles.cycle_update(actor=request.user, cycle_id=cycle.pk, **form.cleaned_data)
        except PlanningError as error:
            refusal = error
        else:
            messages.success(request, _("%(year)s 學年度的設定已儲存。") % {"year": cycle.year})
            return redirect("planning:cycle", year=cycle.year)
    groups = selectors.cycle_windows_by_kind(cycle)
    log = cycles.describe(cycles.change_log(cycle)[:10])
    context = {"cycle": cycle, "form": form, "groups": groups, "log": log}
    context["planning_stages"] = [stage.label for stage in PLANNING_STAGES]
    if refusal is not None:
        return refused_response(request, refusal, "planning/cycle.html", context)
    return render(request, "planning/cycle.html", context)


def _window_page(request, cycle: PlanningCycle, window: PlanningWindow | None):
    adding = window is None
    initial = {}
    if window is not None:
        initial = {"phase": window.phase, "first_day": window.first_day, "last_day": window.last_day}
    form = WindowForm(request.POST or None, initial=initial, adding=adding)
    context = {"cycle": cycle, "window": window, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cycles.window_save(
                actor=request.user,
                cycle_id=cycle.pk,
                window_id=None if adding else window.pk,
                kind=data["kind"] if adding else window.kind,
                authority_id=data["authority"].pk if adding else window.authority_id,
                phase=data["phase"],
                first_day=data["first_day"],
                last_day=data["last_day"],
            )
        except PlanningError as error:
            return refused_response(request, error, "planning/window.html", context)
        messages.success(request, _("填報期程已儲存，並已記錄於異動紀錄。"))
        return redirect("planning:cycle", year=cycle.year)
    return render(request, "planning/window.html", context)


@requires(Perm.OPERATOR_ADMIN)
@require_http_methods(["GET", "POST"])
def window_new(request, year: int):
    return _window_page(request, _found(selectors.cycle_of_year(year)), None)


@requires(Perm.OPERATOR_ADMIN)
@require_http_methods(["GET", "POST"])
def window_edit(request, pk: int):
    window = _found(selectors.window_with_cycle(pk))
    return _window_page(request, window.cycle, window)


@requires(Perm.OPERATOR_ADMIN)
@require_http_methods(["GET", "POST"])
def window_delete(request, pk: int):
    """刪除 asks first (GET shows the window); POST deletes it, recorded in the change log."""
    window = _found(selectors.window_with_cycle(pk))
    if request.method == "POST":
        try:
            cycles.window_delete(actor=request.user, window_id=window.pk)
        except PlanningError as error:  # deleted by another operator meanwhile: 404
            return refused_response(request, error, "planning/window_delete.html", {"window": window})
        messages.success(request, _("已刪除填報期程「%(window)s」。") % {"window": window})
        return redirect("planning:cycle", year=window.cycle.year)
    return render(request, "planning/window_delete.html", {"window": window})


@requires(Perm.OPERATOR_ADMIN)
def cycle_log(request):
    """異動紀錄: every change of every cycle and window, with old and new values and who made it."""
    page = Paginator(cycles.change_log(), 50).get_page(request.GET.get("page"))
    return render(
        request, "planning/cycle_log.html", {"page": page, "rows": cycles.describe(page.object_list)}
    )
