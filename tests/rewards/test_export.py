"""manage.py export_rewards: the SPEC §8 reward export, .csv and .xlsx."""

import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from rewards.exports import OPERATOR_COLUMNS
from tests.rewards.conftest import give_hours, run_job, school_in, school_plan, teacher_in, teacher_plan


@pytest.fixture
def published(pingtung):
    schools = [school_in(pingtung) for _ in range(5)]
    for school in schools[:3]:
        school_plan(school)
    formula = teacher_in(schools[0], name="=HYPERLINK(1)")
    plain = teacher_in(schools[0], name="陳小明")
    give_hours(formula, 4)
    give_hours(plain, 2)
    teacher_plan(plain)
    run_job()
    return {"schools": schools, "formula": formula, "plain": plain}


def _read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_csv_has_the_spec_columns_and_one_row_per_member(published, tmp_path):
    out = tmp_path / "rewards.csv"
    call_command("export_rewards", "--year", "113", "--out", str(out))
    rows = _read_csv(out)
    assert tuple(rows[0]) == OPERATOR_COLUMNS
    assert [r["level"] for r in rows] == ["authority", "school", "teacher", "teacher"]
    authority, school, *teachers = rows
    # The authority's value is the fill rate as a fraction, A its national_average, group_size its
    # in-scope schools, pr empty.
    assert authority == {
        "level": "authority", "code": "10013", "name": "屏東縣", "authority_code": "10013", "stage": "",
        "value": "0.6", "national_average": "3", "group_size": "5", "pr": "", "awarded": "1",
    }  # fmt: skip
    assert (school["value"], school["national_average"], school["group_size"]) == ("3", "3", "1")
    assert school["pr"] == "50.00"
    by_code = {r["code"]: r for r in teachers}
    plain = by_code[published["plain"].reveal_national_id()]
    assert (plain["value"], plain["pr"], plain["awarded"], plain["group_size"]) == ("2", "25.00", "0", "2")


def test_text_that_a_spreadsheet_would_run_is_neutralised_in_csv(published, tmp_path):
    out = tmp_path / "rewards.csv"
    call_command("export_rewards", "--year", "113", "--out", str(out))
    names = {r["name"] for r in _read_csv(out)}
    assert "'=HYPERLINK(1)" in names  # escaped once, by the shared writer
    assert "''=HYPERLINK(1)" not in names


def test_export_xlsx_keeps_formula_like_names_as_text(published, tmp_path):
    out = tmp_path / "rewards.xlsx"
    call_command("export_rewards", "--year", "113", "--out", str(out))
    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == OPERATOR_COLUMNS
    formula_cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert formula_cell.data_type == "s"
    assert len(rows) == 5


def test_export_refuses_a_year_without_results(db, tmp_path):
    with pytest.raises(CommandError, match="尚無已完成的獎勵作業"):
        call_command("export_rewards", "--year", "112", "--out", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="不支援的檔案類型"):
        call_command("export_rewards", "--year", "113", "--out", str(tmp_path / "x.txt"))
