"""The old status values are migrated (issue 11 point 4: 'migrate the existing values')."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_draft_courses_become_registering_and_take_their_organisers_authority():
    executor = MigrationExecutor(connection)
    old = [("courses", "0002_issued_hours_person_index_covered")]
    executor.migrate(old)
    apps = executor.loader.project_state(old).apps
    Unit = apps.get_model("accounts", "Unit")
    Course = apps.get_model("courses", "Course")
    county, _ = Unit.objects.get_or_create(code="10013", defaults={"name": "屏東縣", "kind": "authority"})
    school = Unit.objects.create(code="900001", name="國小", kind="school", stage="國小", authority=county)
    Course.objects.create(code="OLD-1", title="舊草稿", organiser=school, status="draft")
    Course.objects.create(code="OLD-2", title="已確認", organiser=school, status="confirmed")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from courses.models import Course as Current
    from courses.models import Tag

    assert dict(Current.objects.values_list("code", "status")) == {
        "OLD-1": "registering",
        "OLD-2": "confirmed",
    }
    assert set(Current.objects.values_list("authority__code", flat=True)) == {"10013"}
    assert (
        Tag.objects.filter(
            name__in=["安全教育", "性別平等教育", "幼兒園教保專業知能", "基本救命術訓練"]
        ).count()
        == 4
    )
