"""夜間同步紀錄: the operator's view of the nightly roster feeds (teachers.feeds)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from accounts.permissions import Perm, requires
from teachers import feeds
from teachers.models import FeedRun, FeedRunStatus


@requires(Perm.OPERATOR_ADMIN)
def feed_runs(request):
    page = Paginator(FeedRun.objects.defer("refusals"), 20).get_page(request.GET.get("page"))
    for run in page:
        run.progress = feeds.progress_of(run)
    return render(request, "teachers/feed_runs.html", {"page": page, "failed": feeds.failed_latest_runs()})


@requires(Perm.OPERATOR_ADMIN)
def feed_run(request, pk: int):
    run = get_object_or_404(FeedRun, pk=pk)
    run.progress = feeds.progress_of(run)
    return render(
        request,
        "teachers/feed_run.html",
        {"run": run, "running": run.status == FeedRunStatus.RUNNING},
    )
