"""The reward job through a real Celery worker and real Redis on PostgreSQL (SPEC §7).

A run is queued by the service and executed by a worker process started here; a second worker is
killed (SIGKILL) while its run's new results are written but not yet committed: the previous
complete results stay published, the run shows as 中斷 and its year is free for a new run.
Skipped (failed in CI) without Redis and PostgreSQL.
"""

import os
import signal
from decimal import Decimal

import pytest
from django.conf import settings

from accounts.models import Stage
from rewards import services
from rewards.models import RewardRun, RunStatus, TeacherResult
from tests.integration.workers import own_queue, wait, workers_on
from tests.rewards.conftest import (
    ensure_pingtung_113,
    give_hours,
    school_in,
    school_plan,
    teacher_in,
    teacher_plan,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def start_worker(services_up, settings):
    """start_worker(**env) -> the worker process, listening on a queue of its own (the runs' queue)."""
    queue = own_queue("rewards")
    settings.REWARDS_QUEUE = queue
    with workers_on(queue) as start:
        yield start


@pytest.fixture
def year_data(db):
    authority = ensure_pingtung_113()
    school = school_in(authority, stage=Stage.PRIMARY)
    people = [teacher_in(school) for _ in range(4)]
    for person, hours in zip(people, (1, 2, 6, 9), strict=True):
        give_hours(person, hours)
        teacher_plan(person)
    school_plan(school)
    return people


def _finished(run_id):
    run = RewardRun.objects.get(pk=run_id)
    return run if not run.is_active else None


def test_the_job_runs_on_a_real_worker_through_redis(start_worker, year_data):
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    start_worker()
    run = services.reward_run_start(actor=None, year=113, via="command")
    run = wait(lambda: _finished(run.pk), what="the worker to finish the run")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.summary["population"] == 4
    assert run.summary["national_average"] == "4.500000"
    assert TeacherResult.objects.filter(run_id=run.pk).count() == 4
    assert services.progress_of(run) == ("完成", 100)


def test_a_killed_worker_leaves_the_previous_results_and_the_run_interrupted(start_worker, year_data):
    first_worker = start_worker()
    good = services.reward_run_start(actor=None, year=113, via="command")
    good = wait(lambda: _finished(good.pk), what="the first run")
    assert good.status == RunStatus.SUCCEEDED
    first_worker.terminate()
    first_worker.wait(timeout=30)

    give_hours(year_data[0], 50)  # the new run would change the results
    doomed_worker = start_worker(INSERVICE_REWARDS_PAUSE_BEFORE_COMMIT="120")
    doomed = services.reward_run_start(actor=None, year=113, via="command")
    # Progress is visible while it runs: wait until its new rows are written, not yet committed.
    wait(
        lambda: services.progress_of(RewardRun.objects.get(pk=doomed.pk))[0] == "公布結果",
        what="the run to reach the publishing stage",
    )
    assert RewardRun.objects.get(pk=doomed.pk).status == RunStatus.RUNNING
    # The lock holds while the worker lives.
    assert services.reward_runs_reap_interrupted() == []
    with pytest.raises(services.RewardError):
        services.reward_run_start(actor=None, year=113, via="command")

    os.kill(doomed_worker.pid, signal.SIGKILL)
    doomed_worker.wait(timeout=30)
    wait(lambda: services.reward_runs_reap_interrupted(), timeout=30, what="the dead run to be reaped")

    doomed.refresh_from_db()
    assert doomed.status == RunStatus.INTERRUPTED
    assert doomed.get_status_display() == "中斷"
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {good.pk}
    assert TeacherResult.objects.get(person=year_data[0]).hours == Decimal("1.0")
    # Its lock is released: a new run of the year may start.
    again = services.reward_run_start(actor=None, year=113, via="command")
    assert again.status == RunStatus.QUEUED
    RewardRun.objects.filter(pk=again.pk).update(status=RunStatus.CANCELLED)  # no worker left to take it
