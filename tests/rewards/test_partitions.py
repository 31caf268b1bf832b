"""PostgreSQL keeps each run's teacher results in a partition of its own (rewards migration 0003)."""

import pytest
from django.db import connection

from rewards import job, services
from rewards.models import RewardRun, RunStatus, TeacherResult
from tests.rewards.conftest import YEAR, run_job

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")


def _partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'rewards_teacherresult'::regclass"
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_run_attaches_its_partition_and_a_rerun_drops_the_replaced_one(
    small_world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = run_job()
    assert job.run_partition(first.pk) in _partitions()
    with django_capture_on_commit_callbacks(execute=True):
        second = run_job()
    assert _partitions() == {"rewards_teacherresult_default", job.run_partition(second.pk)}
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {second.pk}


def test_a_failed_run_leaves_no_partition(small_world, monkeypatch):
    good = run_job()

    def crash():  # after the partition is attached, before the commit
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "_pause_for_tests", crash)
    failed = services.reward_run_execute(run_id=services.reward_run_start(actor=None, year=YEAR).pk)
    assert failed.status == RunStatus.FAILED
    assert job.run_partition(failed.pk) not in _partitions()
    assert set(TeacherResult.objects.values_list("run_id", flat=True)) == {good.pk}
    assert RewardRun.objects.get(pk=good.pk).status == RunStatus.SUCCEEDED
