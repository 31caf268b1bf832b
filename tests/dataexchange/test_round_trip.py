"""A national-shaped set from seed_national imports in each kind and exports back to the same rows.

The set is small (TEACHERS people, every authority and stage): the national-scale import, 200,000
people, is bench/import_bench.py in `make bench`."""

import csv
import json

import pytest
from openpyxl import load_workbook

from accounts import national_id
from accounts.models import Person
from tests.dataexchange.conftest import run, snapshot

pytestmark = pytest.mark.django_db

KINDS = ("units", "roster", "hours", "plans")
TEACHERS = 400


def read_rows(path) -> set[tuple[str, ...]]:
    if path.suffix == ".xlsx":
        workbook = load_workbook(path, read_only=True)
        rows = {
            tuple("" if v is None else str(v) for v in row)
            for row in workbook.worksheets[0].iter_rows(values_only=True)
        }
        workbook.close()
        return rows
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {tuple(row) for row in csv.reader(f)}


@pytest.fixture(scope="module")
def national_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    result = run("seed_national", "--teachers", TEACHERS, "--seed", "7", "--out", out)
    assert result.error is None
    return out


def test_seed_national_is_deterministic_and_realistic(national_set, tmp_path):
    run("seed_national", "--teachers", TEACHERS, "--seed", "7", "--out", tmp_path)
    for kind in KINDS:
        assert (tmp_path / f"{kind}.csv").read_bytes() == (national_set / f"{kind}.csv").read_bytes()
    counts = json.loads((national_set / "manifest.json").read_text())["counts"]
    assert counts["people"] == TEACHERS
    assert counts["transfers"] > 0 and counts["retirements"] > 0 and counts["staff"] > 0
    assert counts["plans_outside_window"] > 0
    assert 15 * TEACHERS <= counts["hours"] <= 25 * TEACHERS  # 30,000–50,000 for 2,000 people
    units = read_rows(national_set / "units.csv")
    assert {row[3] for row in units if row[2] == "school"} == {
        "幼兒園",
        "國小",
        "國中",
        "高中",
        "高職",
        "特殊教育學校",
    }
    assert sum(1 for row in units if row[2] == "authority") == 23
    roster = read_rows(national_set / "roster.csv")
    assert all(national_id.is_valid(row[0]) for row in roster if row[0] != "national_id")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_each_kind_imports_and_exports_back_to_the_same_rows(national_set, tmp_path, suffix):
    for kind in KINDS:
        result = run("import_data", kind, national_set / f"{kind}.csv")
        assert result.error is None, result.stderr
    assert Person.objects.count() == TEACHERS
    before = snapshot()
    for kind in KINDS:
        assert run("import_data", kind, national_set / f"{kind}.csv").error is None
    assert snapshot() == before  # idempotent
    for kind in KINDS:
        out = tmp_path / f"{kind}{suffix}"
        assert run("export_data", kind, out).error is None
        assert read_rows(out) == read_rows(national_set / f"{kind}.csv"), kind


def test_an_exported_xlsx_imports_again_unchanged(national_set, tmp_path):
    for kind in KINDS:
        run("import_data", kind, national_set / f"{kind}.csv")
    before = snapshot()
    for kind in KINDS:
        out = tmp_path / f"{kind}.xlsx"
        run("export_data", kind, out)
        result = run("import_data", kind, out)
        assert result.error is None, result.stderr
    assert snapshot() == before


def test_seed_national_load_imports_the_files(tmp_path):
    result = run("seed_national", "--teachers", "50", "--seed", "2", "--out", tmp_path, "--load")
    assert result.error is None, result.stderr
    assert Person.objects.count() == 50
    assert "進修規劃（plans）匯入完成" in result.stdout
