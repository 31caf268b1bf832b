"""夜間同步紀錄: the operator's view of the nightly roster feeds (teachers.feeds)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Perm, requires
from teachers import feeds, selectors
from teachers.models import FeedRun, FeedRunStatus, FeedSource
from teachers.tasks import sync_teacher_feed


@requires(Perm.OPERATOR_ADMIN)
def feed_runs(request):
    page = Paginator(selectors.feed_runs(), 20).get_page(request.GET.get("page"))
    for run in page:
        run.progress = feeds.progress_of(run)
    return render(
        request,
        "teachers/feed_runs.html",
        {"page": page, "failed": feeds.failed_latest_runs(), "sources": FeedSource.choices},
    )


@requires(Perm.OPERATOR_ADMIN)
@require_POST
def run_now(request):
    """立即同步: the operator reruns one source now (after fixing what made the night's run fail)."""
    source = request.POST.get("source", "")
    if source not in FeedSource.values:
        messages.error(request, _("請選擇資料來源。"))
        return redirect("teachers:feed-runs")

    transaction.on_commit(lambda: sync_teacher_feed.delay(source))
    messages.success(request, _("已排入同步：%(source)s。") % {"source": FeedSource(source).label})
    return redirect("teachers:feed-runs")


@requires(Perm.OPERATOR_ADMIN)
def feed_run(request, pk: int):
    run = get_object_or_404(FeedRun, pk=pk)
    run.progress = feeds.progress_of(run)
    return render(
        request,
        "teachers/feed_run.html",
        {"run": run, "running": run.status == FeedRunStatus.RUNNING},
    )
