"""The job's behaviour: rerun replaces, read-only, the per-year lock, failure mail, 中斷 runs."""

import datetime as dt
import os
import socket
import subprocess
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import Person
from courses.models import IssuedHours
from planning.models import SchoolPlan, TeacherPlan
from rewards import job, services
from rewards.models import RewardRun, RunStatus, SchoolResult, TeacherResult
from teachers.models import Membership
from tests.rewards.conftest import YEAR, give_hours, run_job, school_in, teacher_in


def _snapshot():
    return (
        list(Membership.objects.order_by("pk").values()),
        list(IssuedHours.objects.order_by("pk").values()),
        list(TeacherPlan.objects.order_by("pk").values()),
        list(SchoolPlan.objects.order_by("pk").values()),
        list(Person.objects.order_by("pk").values()),
    )


def test_the_job_only_reads_roster_hours_and_plans(small_world):
    before = _snapshot()
    run_job()
    assert _snapshot() == before


def test_a_rerun_replaces_the_year_s_results(small_world):
    school, people = small_world
    first = run_job()
    assert TeacherResult.objects.filter(run_id=first.pk).count() == 3
    give_hours(people[0], 20)
    second = run_job()
    assert second.status == RunStatus.SUCCEEDED
    assert TeacherResult.objects.count() == 3
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {second.pk}
    assert TeacherResult.objects.get(person=people[0]).hours == Decimal("22.0")
    assert SchoolResult.objects.get().run_id == second.pk


def test_a_second_start_for_the_same_year_is_refused_while_one_waits(small_world):
    services.reward_run_start(actor=None, year=YEAR, via="command")
    with pytest.raises(services.RewardError) as refused:
        services.reward_run_start(actor=None, year=YEAR, via="command")
    assert "第 113 學年度的獎勵作業已在執行中" in str(refused.value.message)
    assert refused.value.code == "already_active" and refused.value.status == 409
    assert RewardRun.objects.filter(year=YEAR).count() == 1


def test_a_taken_run_is_not_executed_twice(small_world):
    run = run_job()
    assert services.reward_run_execute(run_id=run.pk) is None


def test_years_without_hours_or_a_cycle_or_not_yet_over_are_refused(db):
    with pytest.raises(services.RewardError) as no_cycle:
        services.reward_run_start(actor=None, year=100)
    assert no_cycle.value.code == "no_cycle"
    assert str(no_cycle.value.message) == (
        "第 100 學年度既沒有研習時數，也沒有進修規劃年度（填報期程），無法計算獎勵。"
    )
    from planning.models import PlanningCycle

    PlanningCycle.objects.create(year=199, roster_cutoff=dt.datetime(2110, 8, 2, 9, tzinfo=dt.UTC))
    with pytest.raises(services.RewardError) as not_over:
        services.reward_run_start(actor=None, year=199)
    assert not_over.value.code == "year_not_over"
    assert (
        str(not_over.value.message) == "第 199 學年度尚未結束（至 200年7月31日），學年度結束後才能計算獎勵。"
    )


def test_a_failed_run_keeps_the_published_results_and_mails_the_operator(small_world, operator, monkeypatch):
    good = run_job()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(job, "compute", broken)
    run = services.reward_run_start(actor=operator, year=YEAR)
    run = services.reward_run_execute(run_id=run.pk)
    assert run.status == RunStatus.FAILED
    assert "RuntimeError" in run.error
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {good.pk}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [operator.email]
    assert "第 113 學年度獎勵作業失敗" in mail.outbox[0].subject
    # The lock is free again.
    monkeypatch.undo()
    assert run_job().status == RunStatus.SUCCEEDED


def test_a_failure_while_writing_rolls_back_to_the_previous_complete_results(small_world, monkeypatch):
    good = run_job()
    real_insert = job._insert

    def half_then_crash(model, columns, rows):
        real_insert(model, columns, rows)
        if model is SchoolResult:
            raise RuntimeError("worker lost")

    monkeypatch.setattr(job, "_insert", half_then_crash)
    failed = services.reward_run_execute(run_id=services.reward_run_start(actor=None, year=YEAR).pk)
    assert failed.status == RunStatus.FAILED
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {good.pk}
    assert set(SchoolResult.objects.values_list("run_id", flat=True)) == {good.pk}


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_running_run_whose_worker_is_gone_is_marked_interrupted_and_frees_the_year(small_world, settings):
    settings.ADMINS = [("值班", "ops@example.org")]
    good = run_job()
    orphan = RewardRun.objects.create(
        year=YEAR,
        status=RunStatus.RUNNING,
        class_width=1,
        started_at=good.finished_at,
        worker=f"{socket.gethostname()}:{_dead_pid()}",
    )
    reaped = services.reward_runs_reap_interrupted()
    assert [run.pk for run in reaped] == [orphan.pk]
    orphan.refresh_from_db()
    assert orphan.status == RunStatus.INTERRUPTED
    assert orphan.get_status_display() == "中斷"
    assert mail.outbox[0].to == ["ops@example.org"]
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {good.pk}
    assert run_job().status == RunStatus.SUCCEEDED


def test_a_running_run_whose_worker_is_alive_is_left_alone(small_world):
    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL liveness is the advisory lock: covered by the worker integration test")
    RewardRun.objects.create(
        year=YEAR, status=RunStatus.RUNNING, class_width=1, worker=f"{socket.gethostname()}:{os.getpid()}"
    )
    assert services.reward_runs_reap_interrupted() == []


def test_an_empty_population_fails_with_a_clear_message(pingtung):
    run = run_job()
    assert run.status == RunStatus.FAILED
    assert run.error == "第 113 學年度 7 月 31 日沒有符合資格的在職教師，無法計算獎勵。"


@pytest.fixture
def run_at_once(monkeypatch):
    """The queued task runs as soon as it is queued (the test's transaction never commits)."""
    monkeypatch.setattr(services.transaction, "on_commit", lambda fn, *args, **kwargs: fn())
    monkeypatch.setattr(services, "_enqueue", lambda run_id: services.reward_run_execute(run_id=run_id))


def test_run_rewards_command_prints_the_summary(small_world, run_at_once, capsys):
    call_command("run_rewards", "--year", "113")
    out = capsys.readouterr().out
    assert "全國平均 A：5.000000 小時" in out
    assert "教師母體：3 人" in out
    assert "獲獎教師：" in out and "獲獎學校：" in out and "獲獎主管機關：" in out


def test_run_rewards_command_refuses_clearly(db):
    with pytest.raises(CommandError, match="既沒有研習時數，也沒有進修規劃年度"):
        call_command("run_rewards", "--year", "100")


def test_progress_is_visible_while_queued_and_complete_after(small_world):
    run = services.reward_run_start(actor=None, year=YEAR)
    assert services.progress_of(run) == ("等待工作程序", 0)
    run = services.reward_run_execute(run_id=run.pk)
    assert services.progress_of(run) == ("完成", 100)


def test_the_years_offered_come_from_the_data_and_a_year_without_a_cycle_runs_without_awards(pingtung):
    """Issue 20 point 6: in December 2026 the list offered only cycles (115, unfinished) and not 114."""
    from planning.models import PlanningCycle
    from rewards.forms import StartRunForm
    from rewards.models import SchoolResult, TeacherResult
    from tests.rewards.conftest import give_hours

    school = school_in(pingtung)
    person = teacher_in(school)
    give_hours(person, 12, dt.date(2025, 10, 1))  # academic year 114, which has no cycle
    PlanningCycle.objects.create(year=115, roster_cutoff=dt.datetime(2026, 8, 2, 9, tzinfo=dt.UTC))
    december_2026 = dt.date(2026, 12, 3)
    years = services.rewardable_years(today=december_2026)
    assert 114 in years and 115 not in years and years[0] == 114  # 113 is there too (the shipped cycle)
    assert years == sorted(years, reverse=True)
    run = services.reward_run_start(actor=None, year=114)
    run = services.reward_run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    result = TeacherResult.objects.get(person_id=person.pk, year=114)
    assert result.hours == 12 and not result.plan_in_window and not result.awarded
    assert not SchoolResult.objects.filter(year=114, awarded=True).exists()
    # The page's form says so in words.
    form = StartRunForm()  # the real clock: 114 has ended since 2026-07-31
    assert "無填報期程" in str(dict(form.fields["year"].choices)[114]) and 114 in form.years_without_plans
    assert form.fields["year"].initial == services.rewardable_years()[0]
