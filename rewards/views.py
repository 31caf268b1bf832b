"""獎勵作業 (operator), 獎勵名單 (operator, centres, schools) and 獎勵查詢 (teacher)."""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Perm, requires
from rewards import explain, exports, selectors, services
from rewards.forms import ListSearchForm, StartRunForm, YearForm
from rewards.job import population_day
from rewards.models import ACTIVE_STATUSES, RunStatus

# ------------------------------------------------------------------------------------------
# 獎勵作業


def _job_context(request, form, error=None):
    runs = selectors.runs()
    active = [
        (run, *services.progress_of(run), services.unpicked_warning(run))
        for run in runs.filter(status__in=ACTIVE_STATUSES)
    ]
    published = [selectors.published_run(year) for year in selectors.published_years()]
    from rewards.services import MSG_NO_PLANS_YEAR

    without = [str(MSG_NO_PLANS_YEAR).format(year=year) for year in getattr(form, "years_without_plans", [])]
    return {
        "form": form,
        "without_plans": without,
        "error": error,
        "active": active,
        "published": published,
        "page": Paginator(runs, 20).get_page(request.GET.get("page")),
    }


@requires(Perm.REWARD_JOB)
@require_http_methods(["GET", "POST"])
def job(request):
    """Start the year-end job, watch its progress, read the summaries and the history of runs."""
    form = StartRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.start_reward_run(actor=request.user, year=form.cleaned_data["year"])
        except services.RewardError as error:
            context = _job_context(request, form, error.message)
            return render(request, "rewards/job.html", context, status=error.status)
        messages.success(
            request, _("第 %(year)s 學年度獎勵作業已啟動（編號 %(id)s）。") % {"year": run.year, "id": run.pk}
        )
        return redirect("rewards:job")
    return render(request, "rewards/job.html", _job_context(request, form))


@requires(Perm.REWARD_JOB)
@require_GET
def job_progress(request):
    """The active runs' progress for the page's small script (the page works without it)."""
    runs = selectors.runs().filter(status__in=ACTIVE_STATUSES)
    data = []
    for run in runs:
        stage, percent = services.progress_of(run)
        data.append(
            {
                "id": run.pk,
                "status": run.get_status_display(),
                "queued": run.status == RunStatus.QUEUED,
                "stage": stage,
                "percent": percent,
                "unpicked": services.unpicked_warning(run),
            }
        )
    return JsonResponse({"active": data})


@requires(Perm.REWARD_JOB)
@require_POST
def cancel(request, pk: int):
    try:
        services.cancel_reward_run(actor=request.user, run_id=pk)
    except services.RewardError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已取消等待中的獎勵作業（編號 %(id)s）。") % {"id": pk})
    return redirect("rewards:job")


# ------------------------------------------------------------------------------------------
# 獎勵名單

PAGE_SIZE = 50


def _year(request):
    years = selectors.published_years()
    form = YearForm(request.GET or None, years=years)
    return form, form.chosen()


@requires(Perm.REWARD_LISTS)
@require_GET
def lists(request):
    """The published lists of the actor's part: national, one authority's, or one school's.

    The operator and an authority search the school and the teacher lists (by school, by teacher;
    names masked), paged; a school sees its own teachers."""
    scope = selectors.scope_of(request.user)
    form, year = _year(request)
    search = ListSearchForm(request.GET or None, schools=scope.level != "unit")
    wanted = search.values()
    context = {"form": form, "year": year, "scope": scope, "search": search, "wanted": wanted}
    if year is not None:
        context["run"] = selectors.published_run(year)
        authorities = [(r, explain.authority_sentence(r)) for r in selectors.authority_results(scope, year)]
        context["authorities"] = authorities
        if scope.level == "unit":
            own = selectors.school_results(scope, year).first()
            context["own_school"] = (own, explain.school_sentence(own)) if own else None
        if wanted["show"] == ListSearchForm.SCHOOLS:
            rows = selectors.search_schools(scope, year, school=wanted["school"])
            page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
            context["page"] = page
            context["schools"] = [(r, explain.school_sentence(r)) for r in page]
        else:
            rows = selectors.search_teachers(scope, year, school=wanted["school"], teacher=wanted["teacher"])
            page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
            context["page"] = page
            context["teachers"] = [(r, explain.teacher_sentence(r)) for r in page]
    return render(request, "rewards/lists.html", context)


@requires(Perm.REWARD_LISTS)
@require_GET
def download(request):
    """The actor's part as .xlsx (three sheets) or .csv (one list), for people: zh-Hant, typed cells.

    National IDs only in the operator's copy; the operator may also take the SPEC §8 machine file
    (layout=spec, the columns of manage.py export_rewards)."""
    scope = selectors.scope_of(request.user)
    _form, year = _year(request)
    suffix = request.GET.get("format", "csv")
    only = request.GET.get("list", "teachers")
    machine = request.GET.get("layout") == "spec"
    if year is None or suffix not in ("csv", "xlsx") or only not in exports.LISTS:
        raise Http404
    if machine and scope.level != "all":
        raise Http404
    part = "national" if scope.level == "all" else scope.unit.code
    handle = tempfile.NamedTemporaryFile(prefix="rewards-", suffix=f".{suffix}", delete=False)
    handle.close()
    path = Path(handle.name)
    try:
        if machine:
            exports.write(path, scope, year)
            name = f"rewards-{year}-{part}-spec.{suffix}"
        else:
            exports.write_for_people(path, scope, year, only=only)
            name = (
                f"rewards-{year}-{part}.{suffix}" if suffix == "xlsx" else f"rewards-{year}-{part}-{only}.csv"
            )
        stream = path.open("rb")
    finally:
        path.unlink(missing_ok=True)  # the open handle keeps the data until the response is sent
    return FileResponse(stream, as_attachment=True, filename=name)


# ------------------------------------------------------------------------------------------
# 獎勵查詢


@requires(Perm.REWARD_LOOKUP)
@require_GET
def lookup(request):
    """A teacher's own result with the reason in plain words, or why they are outside the population."""
    form, year = _year(request)
    context = {"form": form, "year": year}
    if year is not None:
        person_id = request.user.person_id
        result = selectors.own_result(person_id, year)
        context["result"] = result
        if result is not None:
            context["sentence"] = explain.teacher_sentence(result)
        else:
            day = population_day(year)
            context["outside"] = explain.outside_population(selectors.membership_on(person_id, day), day)
    return render(request, "rewards/lookup.html", context)
