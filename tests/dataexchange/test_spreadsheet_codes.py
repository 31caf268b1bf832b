"""Codes are text: files a spreadsheet saved with the leading zeros gone are refused, not imported.

LibreOffice and Excel open a CSV's 09007 as the number 9007 and save it so; an .xlsx typed by
hand holds numeric cells. The files here are made the way those programs leave them.
"""

import csv
import datetime as dt
import re

import pytest

from accounts.models import Stage, Unit, UnitKind
from courses.models import Course
from tests.dataexchange.conftest import HEADERS, run, write_xlsx
from tests.factories import PersonFactory, SchoolFactory, valid_national_id

pytestmark = pytest.mark.django_db

LOST = (
    "{column} {code} 與既有代碼 {known} 只差開頭的 0：檔案可能經 Excel 或 LibreOffice 開啟後存檔，"
    "代碼被當成數字而去掉開頭的 0。請把代碼欄設為文字、補回開頭的 0（或改用系統匯出的原檔）後再匯入"
)
SAME = (
    "name、kind、authority_code 與既有單位 {known} 相同，code 卻不同：可能是試算表（Excel、LibreOffice）"
    "去掉了代碼開頭的 0，或同一單位被登錄成兩個代碼。若是同一單位，請沿用代碼 {known}"
)
ID1 = valid_national_id(41)
DIGITS = re.compile(r"^\d+$")


def saved_by_spreadsheet(source, target):
    """What LibreOffice's or Excel's 'open CSV, save as CSV' does: a cell of digits becomes a number."""
    with open(source, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(rows[0])
        for row in rows[1:]:
            writer.writerow([str(int(cell)) if DIGITS.match(cell) else cell for cell in row])
    return target


@pytest.fixture
def matsu_school():
    """A school under 連江縣 (09007, seeded) whose own code starts with 0."""
    return SchoolFactory(
        code="072601",
        name="連江縣立示範國民小學",
        stage=Stage.PRIMARY,
        authority=Unit.objects.get(code="09007"),
    )


def test_exported_units_saved_by_a_spreadsheet_are_refused_naming_the_cause(matsu_school, tmp_path, refused):
    exported = tmp_path / "units.csv"
    assert run("export_data", "units", exported).error is None
    lines = refused("units", saved_by_spreadsheet(exported, tmp_path / "units-saved.csv"))
    assert any(line.endswith(LOST.format(column="code", code="9007", known="09007")) for line in lines)
    assert any(line.endswith(LOST.format(column="code", code="72601", known="072601")) for line in lines)
    assert any(
        line.endswith(LOST.format(column="authority_code", code="9007", known="09007")) for line in lines
    )
    assert not Unit.objects.filter(code__in=["9007", "72601"]).exists()


def test_a_zero_stripped_authority_code_in_a_csv_is_refused(csv_file, refused):
    lines = refused("units", csv_file("units", [["9007", "連江縣", "authority", "", ""]]))
    assert lines == ["第 2 列：" + LOST.format(column="code", code="9007", known="09007")]


def test_numeric_xlsx_cells_that_lost_their_zeros_are_refused(matsu_school, tmp_path, refused):
    path = write_xlsx(
        tmp_path / "units.xlsx",
        HEADERS["units"],
        [[72601, "連江縣立示範國民小學", "school", "國小", 9007], [9007, "連江縣", "authority", None, None]],
    )
    assert refused("units", path) == [
        "第 2 列：" + LOST.format(column="code", code="72601", known="072601"),
        "第 2 列：" + LOST.format(column="authority_code", code="9007", known="09007"),
        "第 3 列：" + LOST.format(column="code", code="9007", known="09007"),
    ]


def test_a_new_code_for_a_unit_that_exists_under_another_code_is_refused(matsu_school, csv_file, refused):
    lines = refused(
        "units", csv_file("units", [["172601", "連江縣立示範國民小學", "school", "國小", "09007"]])
    )
    assert lines == ["第 2 列：" + SAME.format(known="072601")]


def test_codes_with_their_zeros_import_as_text(matsu_school, csv_file):
    result = run(
        "import_data",
        "units",
        csv_file("units", [["072602", "連江縣立另一國民小學", "school", "國小", "09007"]]),
    )
    assert result.error is None, result.stderr
    assert Unit.objects.get(code="072602").authority.code == "09007"
    assert Unit.objects.get(code="072602").kind == UnitKind.SCHOOL


def test_a_roster_whose_unit_codes_lost_their_zeros_names_the_cause(matsu_school, csv_file, refused):
    row = [ID1, "王小明", "", "72601", "教師", "教師", "", "2020-08-01", ""]
    unknown = [valid_national_id(42), "李大華", "", "72699", "教師", "教師", "", "2020-08-01", ""]
    assert refused("roster", csv_file("roster", [row, unknown])) == [
        "第 2 列：" + LOST.format(column="unit_code", code="72601", known="072601"),
        "第 3 列：unit_code 不是已知的單位",
    ]


def test_an_hours_file_whose_course_and_organiser_codes_lost_their_zeros_names_the_cause(
    matsu_school, csv_file, tmp_path, refused
):
    PersonFactory(name="王小明", national_id_value=ID1)
    good = csv_file(
        "hours", [[ID1, "0113001", "素養導向教學設計", "072601", "2024-09-04", "3"]], name="good.csv"
    )
    assert run("import_data", "hours", good).error is None
    assert Course.objects.filter(code="0113001").exists()

    later = csv_file(
        "hours",
        [
            [ID1, "0113001", "素養導向教學設計", "072601", "2024-09-04", "3"],
            [ID1, "0113002", "校園安全教育", "072601", "2024-10-01", "2"],
        ],
        name="later.csv",
    )
    lines = refused("hours", saved_by_spreadsheet(later, tmp_path / "later-saved.csv"))
    assert lines == [
        "第 2 列：" + LOST.format(column="organiser_code", code="72601", known="072601"),
        "第 3 列：" + LOST.format(column="organiser_code", code="72601", known="072601"),
    ]
    # The organiser kept its zeros: the course code alone lost them.
    course_only = csv_file(
        "hours", [[ID1, "113001", "素養導向教學設計", "072601", "2024-09-05", "3"]], name="c.csv"
    )
    assert refused("hours", course_only) == [
        "第 2 列：" + LOST.format(column="course_code", code="113001", known="0113001")
    ]
    assert Course.objects.filter(code="113001").count() == 0
    assert dt.date(2024, 9, 5) not in set(Course.objects.values_list("start_date", flat=True))
