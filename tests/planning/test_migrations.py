"""Point 3: what a plan's JSON `data` held becomes answer rows when the column goes (migration 0005)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("planning", "0004_plan_answers_snapshot_survey")]
AFTER = [("planning", "0006_drop_plan_data")]


@pytest.mark.django_db(transaction=True)
def test_json_answers_become_rows_and_unknown_codes_are_dropped():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Unit = apps.get_model("accounts", "Unit")
    SchoolPlan = apps.get_model("planning", "SchoolPlan")
    authority, _ = Unit.objects.get_or_create(code="10013", defaults={"name": "屏東縣", "kind": "authority"})
    school = Unit.objects.create(
        code="999991", name="遷移測試國小", kind="school", stage="國小", authority=authority
    )
    imported = SchoolPlan.objects.create(school=school, year=112, data={})
    answered = SchoolPlan.objects.create(
        school=school,
        year=113,
        data={"mode": ["non_credit", "bogus"], "time": ["summer", "summer"], "x": ["y"]},
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from planning.models import SchoolPlanAnswer

    rows = sorted(SchoolPlanAnswer.objects.values_list("plan_id", "question", "option"))
    assert rows == [(answered.pk, "mode", "non_credit"), (answered.pk, "time", "summer")]
    assert not SchoolPlanAnswer.objects.filter(plan_id=imported.pk).exists()
