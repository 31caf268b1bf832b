"""Files a spreadsheet or an attacker made: CSV cells that would run as formulas (issue 9 point 8)
and .xlsx files that inflate past a limit or hold malformed XML (point 9)."""

import csv
import zipfile

import pytest

from accounts.models import Unit, UnitKind
from core import dataexchange
from teachers.models import Membership
from tests.dataexchange.conftest import HEADERS, imported, run, snapshot, write_csv, write_xlsx
from tests.factories import SchoolFactory, valid_national_id

pytestmark = pytest.mark.django_db

FORMULA_NAMES = ["=1+2", "+886-2-1234", "-5", "@SUM(A1)", "'=already quoted", "''+twice"]
PLAIN_NAMES = ["O'Neill 學院", "示範大學", "a=b", "'plain"]


def _units(names):
    for i, name in enumerate(names):
        Unit.objects.create(code=f"L{i:03d}", name=name, kind=UnitKind.LEGAL_ENTITY)


def _exported_names(path) -> dict[str, str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {row[0]: row[1] for row in list(csv.reader(f))[1:]}


def test_csv_export_cells_cannot_start_a_formula(tmp_path):
    _units(FORMULA_NAMES + PLAIN_NAMES)
    out = tmp_path / "units.csv"
    assert run("export_data", "units", out).error is None
    cells = _exported_names(out)
    for i, name in enumerate(FORMULA_NAMES):
        assert cells[f"L{i:03d}"] == "'" + name
    for i, name in enumerate(PLAIN_NAMES, start=len(FORMULA_NAMES)):
        assert cells[f"L{i:03d}"] == name  # nothing a spreadsheet would run: left alone
    assert not any(cell[:1] in "=+-@" for cell in cells.values())


def test_a_csv_exported_by_the_portal_imports_back_unchanged(tmp_path):
    _units(FORMULA_NAMES + PLAIN_NAMES)
    names = dict(Unit.objects.values_list("code", "name"))
    out = tmp_path / "units.csv"
    run("export_data", "units", out)
    result = imported("units", out)
    assert result.counts["updated"] == 0
    assert dict(Unit.objects.values_list("code", "name")) == names


def test_roster_title_and_subjects_starting_with_formula_signs_round_trip(tmp_path, authority):
    SchoolFactory(code="136601", authority=authority)
    row = [valid_national_id(5), "王小明", "", "136601", "教師", "-兼組長", "+特教;=資訊", "2020-08-01", ""]
    imported("roster", write_csv(tmp_path / "in.csv", HEADERS["roster"], [row]))
    out = tmp_path / "roster.csv"
    run("export_data", "roster", out)
    with open(out, encoding="utf-8-sig", newline="") as f:
        exported = list(csv.reader(f))[1]
    assert (exported[5], exported[6]) == ("'-兼組長", "'+特教;=資訊")
    result = imported("roster", out)
    assert result.counts["memberships_updated"] == 0
    membership = Membership.objects.get()
    assert membership.title == "-兼組長"
    assert sorted(s.name for s in membership.subjects.all()) == ["+特教", "=資訊"]


def test_only_csv_cells_are_unescaped(tmp_path):
    """An .xlsx keeps =text as text (no apostrophe written), so its cells are read as they are."""
    path = write_xlsx(tmp_path / "units.xlsx", HEADERS["units"], [["L1", "'=x", "legal_entity", "", ""]])
    imported("units", path)
    assert Unit.objects.get(code="L1").name == "'=x"


# .xlsx files that inflate or do not parse


def _rezip(source, target, replace: dict[str, bytes]):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item.filename, replace.pop(item.filename, None) or old.read(item.filename))
        for name, data in replace.items():
            new.writestr(name, data)
    return target


@pytest.fixture
def small_xlsx(tmp_path):
    return write_xlsx(tmp_path / "small.xlsx", HEADERS["units"], [["L1", "某基金會", "legal_entity", "", ""]])


@pytest.fixture
def openpyxl_must_not_open(monkeypatch):
    import openpyxl

    def fail(*args, **kwargs):
        raise AssertionError("openpyxl opened a file the size check should have refused")

    monkeypatch.setattr(openpyxl, "load_workbook", fail)


def _too_large(limit_mb: int) -> list[str]:
    return [f"檔案：{dataexchange.MSG_XLSX_TOO_LARGE.format(limit=limit_mb)}"]


def test_shared_strings_that_inflate_a_hundredfold_are_refused_unopened(
    tmp_path, small_xlsx, refused, openpyxl_must_not_open
):
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    strings += b"<si><t>" + b"A" * (4 * 1024 * 1024) + b"</t></si></sst>"
    bomb = _rezip(small_xlsx, tmp_path / "bomb.xlsx", {"xl/sharedStrings.xml": strings})
    assert bomb.stat().st_size < 64 * 1024
    assert refused("units", bomb) == _too_large(64)  # an eighth of the sheets' 512 MB


def test_sheet_xml_past_the_setting_is_refused_unopened(
    small_xlsx, refused, settings, openpyxl_must_not_open
):
    settings.DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES = 1024 * 1024  # 1 MB
    sheet = zipfile.ZipFile(small_xlsx).read("xl/worksheets/sheet1.xml")
    padded = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * (2 * 1024 * 1024))
    bomb = _rezip(small_xlsx, small_xlsx.with_name("padded.xlsx"), {"xl/worksheets/sheet1.xml": padded})
    assert refused("units", bomb) == _too_large(1)


def test_shared_strings_past_an_eighth_of_the_setting_are_refused_unopened(
    small_xlsx, refused, settings, openpyxl_must_not_open
):
    settings.DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES = 8 * 1024 * 1024
    strings = "".join(
        f"<si><t>{i:08d}</t></si>" for i in range(80_000)
    ).encode()  # 1.4 MB, barely compressible
    bomb = _rezip(
        small_xlsx, small_xlsx.with_name("strings.xlsx"), {"xl/sharedStrings.xml": b"<sst>" + strings}
    )
    assert refused("units", bomb) == _too_large(1)


def test_an_ordinary_xlsx_under_the_limit_is_read(small_xlsx):
    assert imported("units", small_xlsx).counts["created"] == 1


@pytest.mark.parametrize(
    ("member", "xml"),
    [
        ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>co"),
        ("xl/workbook.xml", b"<workbook><sheets><sheet name='x'"),
        ("xl/styles.xml", b"<styleSheet><numFmts count='1'><numFmt"),
    ],
)
def test_malformed_xml_is_the_usual_refusal_not_a_traceback(small_xlsx, refused, member, xml):
    broken = _rezip(small_xlsx, small_xlsx.with_name("broken.xlsx"), {member: xml})
    before = snapshot()
    assert refused("units", broken) == ["檔案：無法讀取 .xlsx 檔案"]
    assert snapshot() == before


def test_an_upload_is_imported_from_its_file_object(small_xlsx, tmp_path):
    """A web view or task passes the uploaded file itself: the same import, the same result."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("單位.xlsx", small_xlsx.read_bytes())
    result = imported("units", upload)
    assert result.counts == {"created": 1, "updated": 0, "unchanged": 0}
    assert result.as_dict()["summary"] == "新增單位 1、更新單位 0、未變動單位 0"
    bad = SimpleUploadedFile("單位.csv", b"code,name\nX,Y\n")
    with pytest.raises(dataexchange.ImportRefused) as refusal:
        imported("units", bad)
    assert refusal.value.messages == ["第 1 列：缺少欄位 kind、stage、authority_code"]
