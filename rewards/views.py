"""獎勵作業 (operator), 獎勵名單 (operator, centres, schools) and 獎勵查詢 (teacher)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import national_id
from accounts.permissions import Perm, UnitScope, requires
from core import exports as core_exports
from core.exports import ExportStatus
from core.refusals import raise_denial, refused_response
from rewards import explain, exports, selectors, services
from rewards.errors import RewardError
from rewards.forms import ListSearchForm, StartRunForm, YearForm
from rewards.job import population_day
from rewards.models import ACTIVE_STATUSES, RunStatus
from rewards.services import MSG_NO_PLANS_YEAR

# ------------------------------------------------------------------------------------------
# 獎勵作業


def _job_context(request, form):
    runs = selectors.runs()
    active = [
        (run, *services.progress_of(run), services.unpicked_warning(run))
        for run in runs.filter(status__in=ACTIVE_STATUSES)
    ]
    published = [selectors.published_run(year) for year in selectors.published_years()]

    without = [str(MSG_NO_PLANS_YEAR).format(year=year) for year in getattr(form, "years_without_plans", [])]
    return {
        "form": form,
        "without_plans": without,
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
            run = services.reward_run_start(actor=request.user, year=form.cleaned_data["year"])
        except RewardError as error:
            return refused_response(request, error, "rewards/job.html", _job_context(request, form))
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
        services.reward_run_cancel(actor=request.user, run_id=pk)
    except RewardError as error:
        return refused_response(request, error, "rewards/job.html", _job_context(request, StartRunForm()))
    messages.success(request, _("已取消等待中的獎勵作業（編號 %(id)s）。") % {"id": pk})
    return redirect("rewards:job")


# ------------------------------------------------------------------------------------------
# 獎勵名單

PAGE_SIZE = 50
# The operator's national copies (format, list, layout, label): each is prepared by a worker.
NATIONAL_DOWNLOADS = (
    ("xlsx", "teachers", "", gettext_lazy("獎勵名單（Excel .xlsx，主管機關、學校、教師三個工作表）")),
    ("csv", "schools", "", gettext_lazy("學校獎勵名單（CSV）")),
    ("csv", "teachers", "", gettext_lazy("教師獎勵名單（CSV）")),
    ("csv", "teachers", "spec", gettext_lazy("獎勵名單（SPEC §8 交換格式 CSV，機器讀取用英文欄位）")),
)


def _year(request):
    return _year_of(request.GET)


def _year_of(params):
    years = selectors.published_years()
    form = YearForm(params or None, years=years)
    return form, form.chosen()


@requires(Perm.REWARD_LISTS)
@require_GET
def lists(request):
    """The published lists of the actor's part: national, one authority's, or one school's.

    The operator and an authority search the school and the teacher lists (by school, by teacher;
    names masked), paged; a school sees its own teachers."""
    return render(request, "rewards/lists.html", _lists_context(request, _scope(request)))


def _scope(request) -> UnitScope:
    """The actor's part of the lists; an account outside every part is refused, 403 as everywhere
    (there is no lists page to show the refusal on)."""
    try:
        return selectors.scope_of(request.user)
    except RewardError as error:
        raise_denial(error)
        raise


def _lists_context(request, scope: UnitScope) -> dict:
    form, year = _year(request)
    search = ListSearchForm(request.GET or None, schools=scope.level != "unit")
    wanted = search.values()
    context = {"form": form, "year": year, "scope": scope, "search": search, "wanted": wanted}
    if scope.level == "all":
        own = list(selectors.own_list_exports(request.user)[:10])
        context["own_exports"] = own
        context["exports_active"] = any(export.is_active for export in own)
        context["national_downloads"] = NATIONAL_DOWNLOADS
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
    return context


def _download_choice(params):
    """year, suffix, list, spec of a download's parameters; Http404 when any is not one offered."""
    form, year = _year_of(params)
    suffix = params.get("format", "csv")
    only = params.get("list", "teachers")
    if not form.is_valid() or year is None or suffix not in ("csv", "xlsx") or only not in exports.LISTS:
        raise Http404
    return year, suffix, only, params.get("layout") == "spec"


@requires(Perm.REWARD_LISTS)
@require_GET
def download(request):
    """The actor's part as .xlsx (three sheets) or .csv (one list), for people: zh-Hant, typed cells.

    The operator's national copy (with national IDs; also as the SPEC §8 machine file, layout=spec)
    is prepared by a worker instead: 申請下載 (export_request), then its link on the lists page."""
    scope = _scope(request)
    year, suffix, only, spec = _download_choice(request.GET)
    if scope.level == "all":  # a bookmarked link of before: the national copy is asked for instead
        messages.info(request, _("全國名單由背景程序產生，請按「申請下載」，完成後於「已申請的下載」下載。"))
        return redirect(f"{reverse('rewards:lists')}?year={year}#exports")
    if spec:
        raise Http404
    tables = exports.download_tables(scope, year, suffix=suffix, only=only)
    name = exports.download_name(scope, year, suffix=suffix, only=only, spec=False)
    if suffix == "xlsx":
        return core_exports.xlsx_response(tables, name)
    return core_exports.csv_response(tables[0], name)


@requires(Perm.REWARD_LISTS)
@require_POST
def export_request(request):
    """申請下載: queue the national list; the lists page shows it 產生中, then its link."""
    scope = _scope(request)
    year, suffix, only, spec = _download_choice(request.POST)
    try:
        services.list_export_request(actor=request.user, year=year, suffix=suffix, list_name=only, spec=spec)
    except RewardError as error:
        return refused_response(request, error, "rewards/lists.html", _lists_context(request, scope))
    messages.success(request, _("已申請下載，檔案產生中；完成後請於下方「已申請的下載」下載。"))
    return redirect(f"{reverse('rewards:lists')}?year={year}#exports")


@requires(Perm.REWARD_LISTS)
@require_GET
def export_file(request, pk: int):
    """A prepared file, decrypted as it is sent: its requester's alone (anyone else: 404)."""
    export = selectors.own_list_exports(request.user).filter(pk=pk, status=ExportStatus.READY).first()
    if export is None or not export.path.exists():
        raise Http404
    return core_exports.export_response(export, national_id.cipher())


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
