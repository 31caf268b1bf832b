"""File-level behaviour shared by every kind: encodings, BOM, header, .xlsx, error listing."""

import datetime as dt

import pytest
from openpyxl import Workbook

from accounts.models import Unit
from core import dataexchange
from courses.models import Course
from teachers.models import Membership
from tests.dataexchange.conftest import HEADERS, run, snapshot, write_csv, write_xlsx
from tests.factories import PersonFactory, SchoolFactory, valid_national_id

pytestmark = pytest.mark.django_db

SCHOOL = ["136601", "屏東縣立示範國民小學", "school", "國小", "10013"]


def test_a_bom_is_accepted(tmp_path):
    path = write_csv(tmp_path / "units.csv", HEADERS["units"], [SCHOOL], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert run("import_data", "units", path).error is None
    assert Unit.objects.filter(code="136601").exists()


def test_a_big5_file_is_refused_with_a_clear_message(tmp_path, refused):
    path = write_csv(tmp_path / "units.csv", HEADERS["units"], [SCHOOL], encoding="cp950")
    assert refused("units", path) == ["第 2 列：檔案不是 UTF-8 編碼，請以 UTF-8 另存後再匯入"]


def test_a_missing_column_is_refused(tmp_path, refused):
    header = ["national_id", "course_code", "course_title", "organiser_code", "date"]
    path = write_csv(
        tmp_path / "hours.csv", header, [[valid_national_id(1), "C1", "課", "10013", "2024-09-01"]]
    )
    assert refused("hours", path) == ["第 1 列：缺少欄位 hours"]


def test_a_row_with_a_missing_cell_is_refused(tmp_path, refused):
    path = write_csv(tmp_path / "units.csv", HEADERS["units"], [SCHOOL, SCHOOL[:4]])
    assert refused("units", path) == ["第 3 列：欄位數不符（應有 5 欄，實有 4 欄）"]


def test_columns_may_come_in_any_order_and_blank_lines_are_skipped(tmp_path):
    header = ["authority_code", "stage", "kind", "name", "code"]
    path = write_csv(tmp_path / "units.csv", header, [list(reversed(SCHOOL)), []])
    assert run("import_data", "units", path).error is None
    assert Unit.objects.get(code="136601").stage == "國小"


def test_an_empty_file_is_refused(tmp_path, refused):
    path = tmp_path / "units.csv"
    path.write_bytes(b"")
    assert refused("units", path) == ["第 1 列：檔案是空的，缺少標題列"]


def test_other_file_types_are_refused(tmp_path, refused):
    path = tmp_path / "units.txt"
    path.write_text("code\n")
    assert refused("units", path) == ["檔案：不支援的檔案類型，請使用 .csv 或 .xlsx"]


def test_xlsx_with_typed_cells_is_read_like_csv(tmp_path, authority):
    school = SchoolFactory(code="136601", authority=authority)
    nid = valid_national_id(5)
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        HEADERS["roster"],
        [[nid, "王小明", None, 136601, "教師", "教師", "數學", dt.datetime(2020, 8, 1), None]],
    )
    # 136601 as a number, the date as a date cell, trailing empty cells: all read as text.
    result = run("import_data", "roster", path)
    assert result.error is None, result.stderr
    assert school.memberships.get().start_date == dt.date(2020, 8, 1)


def test_xlsx_errors_carry_spreadsheet_line_numbers(tmp_path, authority, refused):
    SchoolFactory(code="136601", authority=authority)
    PersonFactory(national_id_value=valid_national_id(6))
    path = write_xlsx(
        tmp_path / "hours.xlsx",
        HEADERS["hours"],
        [
            [valid_national_id(6), "C1", "研習", "136601", "2024-09-01", 3],
            [valid_national_id(6), "C1", "研習", "136601", "2024-09-02", -2],
        ],
    )
    assert refused("hours", path) == ["第 3 列：hours 不可為負數"]


def test_a_missing_file_is_refused(tmp_path, refused):
    assert refused("units", tmp_path / "none.csv") == ["檔案：找不到檔案 none.csv"]


def test_a_broken_xlsx_is_refused(tmp_path, refused):
    path = tmp_path / "units.xlsx"
    path.write_bytes(b"not a zip")
    assert refused("units", path) == ["檔案：無法讀取 .xlsx 檔案"]


def test_every_bad_row_is_counted_and_printing_stops_at_the_cap(tmp_path, refused, monkeypatch):
    monkeypatch.setattr(dataexchange.errors, "MAX_PRINTED_ERRORS", 3)
    rows = [[f"X{i}", "某處", "company", "", ""] for i in range(5)]
    path = write_csv(tmp_path / "units.csv", HEADERS["units"], rows)
    result = run("import_data", "units", path)
    assert result.error == "匯入失敗：共 5 筆錯誤，未寫入任何資料。"
    assert result.lines == [
        "第 2 列：kind 不是有效的單位類別",
        "第 3 列：kind 不是有效的單位類別",
        "第 4 列：kind 不是有效的單位類別",
        "……另有 2 筆錯誤未列出",
    ]


def test_the_error_list_keeps_the_lowest_line_numbers():
    errors = dataexchange.ErrorList(cap=2)
    for line in (9, 4, 7, 2):
        errors.add(line, "x")
    assert errors.items() == [(2, "x"), (4, "x")]
    assert errors.total == 4


def test_an_extra_column_after_the_kinds_columns_is_ignored(tmp_path):
    path = write_csv(tmp_path / "units.csv", [*HEADERS["units"], "備註"], [[*SCHOOL, "舊系統"]])
    result = run("import_data", "units", path)
    assert result.error is None, result.stderr
    assert Unit.objects.get(code="136601").name == SCHOOL[1]


def test_spreadsheet_padding_in_a_csv_is_not_data(tmp_path):
    # Excel saves rows of empty cells and empty cells past the last column as commas.
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,kind,stage,authority_code,,\n" + ",".join([*SCHOOL, "", ""]) + "\n,,,,,,\n,,,,\n",
        encoding="utf-8",
    )
    result = run("import_data", "units", path)
    assert result.error is None, result.stderr
    assert Unit.objects.filter(code="136601").exists()


def test_a_value_past_the_header_is_still_a_wrong_count(tmp_path, refused):
    path = write_csv(tmp_path / "units.csv", HEADERS["units"], [[*SCHOOL, "", "多出來"]])
    assert refused("units", path) == ["第 2 列：欄位數不符（應有 5 欄，實有 7 欄）"]


def test_every_sheet_is_read_before_the_file_is_refused(tmp_path, refused):
    workbook = Workbook()
    for sheet, code in ((workbook.active, "X1"), (workbook.create_sheet(), "X2")):
        sheet.append(HEADERS["units"])
        sheet.append([code, "某處", "company", "", ""])
    workbook.save(tmp_path / "units.xlsx")
    assert refused("units", tmp_path / "units.xlsx") == [
        "第 2 列：kind 不是有效的單位類別",
        "第 2 個工作表第 2 列：kind 不是有效的單位類別",
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_text_with_backslashes_quotes_and_a_leading_equals_sign_round_trips(tmp_path, authority, suffix):
    SchoolFactory(code="136601", authority=authority)
    nid = valid_national_id(7)
    unit = ["X9", "=市立\\機構", "legal_entity", "", ""]
    roster = [nid, "王小明", "", "136601", "教師", "組長\\導師", '資訊\\科技;"特教"資源班', "2020-08-01", ""]
    hours = [nid, "C\\1", '研習"一"', "136601", "2024-09-01", "3"]
    for kind, row in (("units", unit), ("roster", roster), ("hours", hours)):
        result = run("import_data", kind, write_csv(tmp_path / f"{kind}.csv", HEADERS[kind], [row]))
        assert result.error is None, result.stderr
    membership = Membership.objects.get()
    assert membership.title == "組長\\導師"
    assert sorted(s.name for s in membership.subjects.all()) == ['"特教"資源班', "資訊\\科技"]
    course = Course.objects.get()
    assert (course.code, course.title) == ("C\\1", '研習"一"')
    assert Unit.objects.get(code="X9").name == "=市立\\機構"
    before = snapshot()
    for kind in ("units", "roster", "hours"):
        out = tmp_path / f"{kind}-out{suffix}"
        assert run("export_data", kind, out).error is None
        result = run("import_data", kind, out)
        assert result.error is None, result.stderr
    assert snapshot() == before


def test_a_database_refusal_the_checks_missed_is_a_clear_error(tmp_path, monkeypatch):
    import dataclasses

    from django.db import IntegrityError

    def refuse(run, table):
        raise IntegrityError("duplicate key value violates unique constraint, Key (name)=(王小明)")

    units = dataclasses.replace(dataexchange.get_kind("units"), import_rows=refuse)
    monkeypatch.setitem(dataexchange.KINDS._impls, "units", units)
    result = run("import_data", "units", write_csv(tmp_path / "units.csv", HEADERS["units"], [SCHOOL]))
    assert result.error == "匯入失敗：共 1 筆錯誤，未寫入任何資料。"
    assert result.lines == [
        "檔案：資料庫拒絕寫入（IntegrityError），未寫入任何資料。請將檔案與時間告知系統管理者。"
    ]
    assert "王小明" not in result.error + result.stderr


@pytest.mark.parametrize(
    ("kind", "row", "message"),
    [
        ("units", ["X1", "某\x00處", "legal_entity", "", ""], "name 含有控制字元"),
        (
            "roster",
            [valid_national_id(8), "王小明", "", "136601", "教師", "組\n長", "", "2020-08-01", ""],
            "title 含有控制字元",
        ),
        (
            "hours",
            [valid_national_id(8), "C1", "研\x00習", "136601", "2024-09-01", "3"],
            "course_title 含有控制字元",
        ),
        ("plans", ["school", "1366\x0001", "113", "2024-08-10T10:00:00+08:00"], "subject 含有控制字元"),
    ],
)
def test_control_characters_are_a_row_error(tmp_path, authority, refused, kind, row, message):
    SchoolFactory(code="136601", authority=authority)
    PersonFactory(national_id_value=valid_national_id(8))
    lines = refused(kind, write_csv(tmp_path / f"{kind}.csv", HEADERS[kind], [row]))
    assert lines == [f"第 2 列：{message}（如換行、NUL），請刪除"]


@pytest.mark.parametrize(
    ("kind", "row", "message"),
    [
        ("units", ["X1", "\u200b\u3000", "legal_entity", "", ""], "name 不可空白"),
        (
            "roster",
            [valid_national_id(8), "王\u202e明", "", "136601", "教師", "", "", "2020-08-01", ""],
            "name 含有改變文字方向的隱藏字元，請刪除",
        ),
        (
            "hours",
            [valid_national_id(8), "C1", "研習\u2066", "136601", "2024-09-01", "3"],
            "course_title 含有改變文字方向的隱藏字元，請刪除",
        ),
        (
            "roster",
            [valid_national_id(8), "王小明", "", "136601", "教師", "組" * 61, "", "2020-08-01", ""],
            "title 超過 60 字",
        ),
    ],
)
def test_importers_use_the_text_check_of_the_web_forms(tmp_path, authority, refused, kind, row, message):
    SchoolFactory(code="136601", authority=authority)
    PersonFactory(national_id_value=valid_national_id(8))
    assert refused(kind, write_csv(tmp_path / f"{kind}.csv", HEADERS[kind], [row])) == [f"第 2 列：{message}"]
