import pytest

from accounts.models import Stage, Unit, UnitKind
from tests.dataexchange.conftest import imported, run, snapshot

pytestmark = pytest.mark.django_db

ROWS = [
    ["99001", "新縣", "authority", "", ""],
    ["136601", "屏東縣立示範國民小學", "school", "國小", "10013"],
    ["996501", "新縣立國民中學", "school", "國中", "99001"],
    ["U0001", "示範師範大學", "university", "", ""],
]


def test_units_import_creates_schools_and_new_authorities(csv_file):
    result = run("import_data", "units", csv_file("units", ROWS))
    assert result.error is None
    school = Unit.objects.get(code="996501")
    assert school.kind == UnitKind.SCHOOL and school.stage == Stage.JUNIOR
    assert school.authority.code == "99001"
    assert Unit.objects.get(code="136601").authority.name == "屏東縣"
    assert Unit.objects.get(code="U0001").kind == UnitKind.UNIVERSITY


def test_units_import_twice_changes_nothing(csv_file):
    path = csv_file("units", ROWS)
    run("import_data", "units", path)
    before = snapshot()
    result = imported("units", path)
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 4}
    assert snapshot() == before


def test_unknown_authority_is_refused(csv_file, refused):
    lines = refused("units", csv_file("units", [ROWS[1], ["136602", "某校", "school", "國小", "12345"]]))
    assert lines == ["第 3 列：authority_code 不是已知的主管機關"]


def test_unknown_stage_and_kind_are_refused(csv_file, refused):
    lines = refused(
        "units",
        csv_file("units", [["136602", "某校", "school", "大學", "10013"], ["X1", "某處", "company", "", ""]]),
    )
    assert lines == ["第 2 列：stage 不是有效的教育階段", "第 3 列：kind 不是有效的單位類別"]


def test_stage_only_for_schools(csv_file, refused):
    lines = refused("units", csv_file("units", [["U0002", "某大學", "university", "國小", ""]]))
    assert lines == ["第 2 列：只有學校可填 stage"]


def test_kind_of_an_existing_unit_cannot_change(csv_file, refused):
    lines = refused("units", csv_file("units", [["10013", "屏東縣", "school", "國小", "10013"]]))
    assert lines == ["第 2 列：code 已存在且類別不同，不可變更單位類別"]


def test_export_units_writes_the_import_format(csv_file, tmp_path):
    run("import_data", "units", csv_file("units", ROWS))
    out = tmp_path / "out.csv"
    assert run("export_data", "units", out).error is None
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "code,name,kind,stage,authority_code"
    assert "996501,新縣立國民中學,school,國中,99001" in text.splitlines()
