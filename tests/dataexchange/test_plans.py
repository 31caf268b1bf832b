import datetime as dt

import pytest

from accounts.national_id import MSG_UNKNOWN_PERSON
from planning.models import SchoolPlan, TeacherPlan
from tests.dataexchange.conftest import imported, run, snapshot
from tests.factories import PersonFactory, SchoolFactory, valid_national_id

pytestmark = pytest.mark.django_db

ID1 = valid_national_id(21)
TAIPEI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def setup(authority):
    PersonFactory(name="王小明", national_id_value=ID1)
    return SchoolFactory(code="136601", authority=authority)


def rows():
    return [
        ["school", "136601", "113", "2024-08-14T16:59:59+08:00"],
        ["teacher", ID1, "113", "2024-09-10T08:00:00+08:00"],
        ["teacher", ID1, "112", "2023-09-30T09:00:00Z"],
    ]


def test_plans_record_the_submission_time(setup, csv_file):
    result = run("import_data", "plans", csv_file("plans", rows()))
    assert result.error is None, result.stderr
    plan = SchoolPlan.objects.get(school=setup, year=113)
    assert plan.submitted_at == dt.datetime(2024, 8, 14, 16, 59, 59, tzinfo=TAIPEI)
    assert TeacherPlan.objects.get(person__name="王小明", year=112).submitted_at == dt.datetime(
        2023, 9, 30, 9, 0, tzinfo=dt.UTC
    )


def test_plans_import_twice_changes_nothing(setup, csv_file):
    path = csv_file("plans", rows())
    run("import_data", "plans", path)
    before = snapshot()
    result = imported("plans", path)
    assert set(result.counts.values()) == {0}
    assert set(result.counts) == {
        "school_plans_created",
        "school_plans_updated",
        "teacher_plans_created",
        "teacher_plans_updated",
    }
    assert snapshot() == before


def test_a_draft_takes_the_files_submission_time(setup, csv_file):
    draft = SchoolPlan.objects.create(school=setup, year=113)
    draft.answers.create(question="method", option="lecture")
    run("import_data", "plans", csv_file("plans", rows()))
    plan = SchoolPlan.objects.get(school=setup, year=113)
    assert plan.submitted_at is not None
    assert list(plan.answers.values_list("question", "option")) == [("method", "lecture")]


def test_submission_time_needs_an_offset(setup, csv_file, refused):
    data = rows()
    data[0][3] = "2024-08-14T16:59:59"
    data[1][3] = "2024-08-14"
    assert refused("plans", csv_file("plans", data)) == [
        "第 2 列：submitted_at 須為含時區的 ISO 8601 時間（例如 2024-08-05T10:30:00+08:00）",
        "第 3 列：submitted_at 須為含時區的 ISO 8601 時間（例如 2024-08-05T10:30:00+08:00）",
    ]


def test_unknown_kind_school_person_and_year_are_refused(setup, authority, csv_file, refused):
    data = [
        ["district", "136601", "113", "2024-08-14T16:59:59+08:00"],
        ["school", "999999", "113", "2024-08-14T16:59:59+08:00"],
        ["school", authority.code, "113", "2024-08-14T16:59:59+08:00"],
        ["teacher", valid_national_id(98), "113", "2024-08-14T16:59:59+08:00"],
        ["teacher", ID1, "2024", "2024-08-14T16:59:59+08:00"],
    ]
    assert refused("plans", csv_file("plans", data)) == [
        "第 2 列：kind 須為 school 或 teacher",
        "第 3 列：subject 不是已知的學校代碼",
        "第 4 列：subject 不是學校",
        f"第 5 列：{MSG_UNKNOWN_PERSON}",
        "第 6 列：year 須為民國學年度（整數）",
    ]


def test_the_same_plan_twice_is_refused(setup, csv_file, refused):
    data = rows() + [["school", "136601", "113", "2024-08-13T10:00:00+08:00"]]
    assert refused("plans", csv_file("plans", data)) == ["第 5 列：與第 2 列重複（同一 kind、subject、year）"]


def test_export_plans_in_taipei_time(setup, csv_file, tmp_path):
    run("import_data", "plans", csv_file("plans", rows()))
    out = tmp_path / "plans-out.csv"
    run("export_data", "plans", out)
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1:] == [
        "school,136601,113,2024-08-14T16:59:59+08:00",
        f"teacher,{ID1},112,2023-09-30T17:00:00+08:00",
        f"teacher,{ID1},113,2024-09-10T08:00:00+08:00",
    ]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-08:00"])
def test_a_submission_time_at_the_ends_of_the_calendar_is_a_row_error(setup, csv_file, refused, moment):
    lines = refused("plans", csv_file("plans", [["school", "136601", "113", moment]]))
    assert lines == ["第 2 列：submitted_at 須為含時區的 ISO 8601 時間（例如 2024-08-05T10:30:00+08:00）"]
