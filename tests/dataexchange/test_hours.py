import csv
import datetime as dt
import re
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from openpyxl import Workbook, load_workbook

from accounts.national_id import MSG_UNKNOWN_PERSON
from core import dataexchange
from courses.importers import PHASE_HOURS, PHASE_HOURS_BULK
from courses.models import Course, CourseStatus, HoursSource, IssuedHours
from tests.dataexchange.conftest import (
    HEADERS,
    constraints_and_indexes,
    imported,
    phase_names,
    postgresql_only,
    run,
    snapshot,
)
from tests.factories import PersonFactory, SchoolFactory, valid_national_id

pytestmark = pytest.mark.django_db

ID1, ID2 = valid_national_id(11), valid_national_id(12)


@pytest.fixture
def setup(authority):
    school = SchoolFactory(code="136601", authority=authority)
    PersonFactory(name="王小明", national_id_value=ID1)
    PersonFactory(name="李大華", national_id_value=ID2)
    return school


def rows():
    return [
        [ID1, "113A001", "素養導向教學設計", "136601", "2024-09-04", "3"],
        [ID2, "113A001", "素養導向教學設計", "136601", "2024-09-04", "3.0"],
        [ID1, "113A002", "校園安全教育", "10013", "2024-10-01", "1.5"],
        [ID1, "113A002", "校園安全教育", "10013", "2024-10-02", "1.5"],
    ]


def test_hours_create_confirmed_courses_and_issued_hours(setup, csv_file):
    result = run("import_data", "hours", csv_file("hours", rows()))
    assert result.error is None, result.stderr
    course = Course.objects.get(code="113A002")
    assert course.status == CourseStatus.CONFIRMED
    assert course.organiser.code == "10013" and course.title == "校園安全教育"
    assert (course.start_date, course.end_date, course.hours) == (
        dt.date(2024, 10, 1),
        dt.date(2024, 10, 2),
        Decimal("1.5"),
    )
    records = IssuedHours.objects.filter(person__name="王小明").order_by("date")
    assert [(r.course.code, r.hours, r.source) for r in records] == [
        ("113A001", Decimal("3.0"), HoursSource.IMPORT),
        ("113A002", Decimal("1.5"), HoursSource.IMPORT),
        ("113A002", Decimal("1.5"), HoursSource.IMPORT),
    ]


def test_hours_import_twice_changes_nothing(setup, csv_file):
    path = csv_file("hours", rows())
    run("import_data", "hours", path)
    before = snapshot()
    result = imported("hours", path)
    assert result.counts == {"courses_created": 0, "hours_created": 0, "hours_updated": 0}
    assert snapshot() == before


def test_a_later_file_corrects_the_hours_of_an_existing_record(setup, csv_file):
    run("import_data", "hours", csv_file("hours", rows()))
    data = rows()
    data[1][5] = "2.5"
    result = imported("hours", csv_file("hours", data, name="fixed.csv"))
    assert (result.counts["hours_created"], result.counts["hours_updated"]) == (0, 1)
    assert IssuedHours.objects.get(person__name="李大華").hours == Decimal("2.5")


def test_negative_and_non_numeric_hours_are_refused(setup, csv_file, refused):
    data = rows()
    data[0][5] = "-1"
    data[1][5] = "三"
    data[2][5] = "1.25"
    data[3][5] = ""
    assert refused("hours", csv_file("hours", data)) == [
        "第 2 列：hours 不可為負數",
        "第 3 列：hours 須為數字",
        "第 4 列：hours 最多一位小數",
        "第 5 列：hours 不可空白",
    ]


def test_unknown_person_is_refused(setup, csv_file, refused):
    data = rows()
    data[1][0] = valid_national_id(99)
    assert refused("hours", csv_file("hours", data)) == [f"第 3 列：{MSG_UNKNOWN_PERSON}"]


def test_bad_checksum_and_bad_date_are_refused(setup, csv_file, refused):
    data = rows()
    data[0][0] = ID1[:-1] + str((int(ID1[-1]) + 1) % 10)
    data[2][4] = "113/10/01"
    assert refused("hours", csv_file("hours", data)) == [
        "第 2 列：身分證字號或居留證號檢查碼不正確。",
        "第 4 列：date 日期格式不正確（應為 YYYY-MM-DD）",
    ]


def test_unknown_organiser_is_refused_on_every_row_of_the_course(setup, csv_file, refused):
    data = rows()
    data[2][3] = data[3][3] = "000000"
    assert refused("hours", csv_file("hours", data)) == [
        "第 4 列：organiser_code 不是已知的單位",
        "第 5 列：organiser_code 不是已知的單位",
    ]


def test_rows_of_one_course_must_agree(setup, csv_file, refused):
    data = rows()
    data[3][2] = "校園安全"
    assert refused("hours", csv_file("hours", data)) == [
        "第 5 列：同一 course_code 的 course_title 或 organiser_code 與第 4 列不同"
    ]


def test_an_existing_course_of_another_organiser_is_refused(setup, csv_file, refused):
    Course.objects.create(code="113A002", title="校園安全教育", organiser=setup)
    assert refused("hours", csv_file("hours", rows())) == [
        "第 4 列：course_code 已存在，但 organiser_code 不同",
        "第 5 列：course_code 已存在，但 organiser_code 不同",
    ]


def test_the_same_record_twice_with_different_hours_is_refused(setup, csv_file, refused):
    data = rows() + [[ID1, "113A001", "素養導向教學設計", "136601", "2024-09-04", "2"]]
    assert refused("hours", csv_file("hours", data)) == [
        "第 2 列：同一人、同一課程、同一 date 在檔案中出現多次且 hours 不同",
        "第 6 列：同一人、同一課程、同一 date 在檔案中出現多次且 hours 不同",
    ]


def test_without_bulk_the_ordinary_path_keeps_the_indexes(setup, csv_file):
    result = imported("hours", csv_file("hours", rows()))
    assert _inserts(result) == [PHASE_HOURS]


@postgresql_only
def test_bulk_path_loads_and_keeps_every_index_and_constraint(setup, csv_file):
    before = constraints_and_indexes(IssuedHours)
    result = imported("hours", csv_file("hours", rows()), bulk=True)
    assert IssuedHours.objects.count() == 4
    assert constraints_and_indexes(IssuedHours) == before
    assert _inserts(result) == [PHASE_HOURS_BULK]


@postgresql_only
def test_bulk_path_with_a_repeated_identical_row_falls_back_and_loads_once(setup, csv_file):
    data = rows() + [list(rows()[0])]
    result = imported("hours", csv_file("hours", data), bulk=True)
    assert IssuedHours.objects.count() == 4
    assert _inserts(result) == [PHASE_HOURS_BULK, PHASE_HOURS]


@postgresql_only
def test_bulk_path_into_a_table_with_records_adds_only_the_new_ones(setup, csv_file):
    imported("hours", csv_file("hours", rows()))
    data = rows() + [[ID2, "113A002", "校園安全教育", "10013", "2024-10-01", "1.5"]]
    result = imported("hours", csv_file("hours", data, name="more.csv"), bulk=True)
    assert (result.counts["hours_created"], result.counts["hours_updated"]) == (1, 0)
    assert IssuedHours.objects.count() == 5
    assert _inserts(result) == [PHASE_HOURS_BULK]


@postgresql_only
def test_bulk_path_refuses_conflicting_rows(setup, csv_file):
    data = rows() + [[ID1, "113A001", "素養導向教學設計", "136601", "2024-09-04", "2"]]
    before = snapshot()
    with pytest.raises(dataexchange.ImportRefused) as refusal:
        imported("hours", csv_file("hours", data), bulk=True)
    assert len(refusal.value.messages) == 2
    assert snapshot() == before


def test_bulk_is_refused_on_sqlite_by_the_command(setup, csv_file):
    if connection.vendor == "postgresql":
        pytest.skip("the refusal concerns back ends other than PostgreSQL")
    result = run("import_data", "hours", csv_file("hours", rows()), "--bulk")
    assert result.error == "--bulk 只適用於 PostgreSQL"
    assert IssuedHours.objects.count() == 0


def _inserts(result):
    return [name for name in phase_names(result) if name in (PHASE_HOURS, PHASE_HOURS_BULK)]


def test_export_hours(setup, csv_file, tmp_path):
    run("import_data", "hours", csv_file("hours", rows()))
    out = tmp_path / "hours-out.csv"
    run("export_data", "hours", out)
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "national_id,course_code,course_title,organiser_code,date,hours"
    assert f"{ID1},113A001,素養導向教學設計,136601,2024-09-04,3.0" in lines
    assert len(lines) == 5


def test_an_xlsx_export_over_the_sheet_limit_goes_on_in_new_sheets_and_imports_back(
    setup, csv_file, tmp_path, monkeypatch
):
    run("import_data", "hours", csv_file("hours", rows()))
    before = snapshot()
    # Excel's limit is 1,048,576 lines a sheet; three (a header and two rows) stand in for it.
    monkeypatch.setattr(dataexchange.TableWriter, "sheet_rows", 3)
    out = tmp_path / "hours-out.xlsx"
    assert run("export_data", "hours", out).error is None
    workbook = load_workbook(out, read_only=True)
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    workbook.close()
    assert [len(sheet) for sheet in sheets] == [3, 3]
    assert all(sheet[0] == tuple(HEADERS["hours"]) for sheet in sheets)
    IssuedHours.objects.all().delete()
    result = run("import_data", "hours", out)
    assert result.error is None, result.stderr
    assert snapshot() == before


def test_errors_on_a_later_sheet_name_the_sheet(setup, tmp_path, refused):
    data = rows()
    data[3][5] = "-1"
    workbook = Workbook()
    first = workbook.active
    for row in [HEADERS["hours"], *data[:2]]:
        first.append(row)
    second = workbook.create_sheet()
    # The same record as line 2 of the first sheet, with other hours; then a negative value.
    for row in [HEADERS["hours"], [*data[0][:5], "2"], data[3]]:
        second.append(row)
    notes = workbook.create_sheet("說明")
    notes.append(["本檔由舊系統匯出"])
    workbook.save(tmp_path / "hours.xlsx")
    assert refused("hours", tmp_path / "hours.xlsx") == [
        "第 2 列：同一人、同一課程、同一 date 在檔案中出現多次且 hours 不同",
        "第 2 個工作表第 2 列：同一人、同一課程、同一 date 在檔案中出現多次且 hours 不同",
        "第 2 個工作表第 3 列：hours 不可為負數",
    ]


def test_a_later_sheet_with_only_some_columns_is_refused(setup, tmp_path, refused):
    workbook = Workbook()
    first = workbook.active
    for row in [HEADERS["hours"], *rows()]:
        first.append(row)
    second = workbook.create_sheet()
    second.append(HEADERS["hours"][:4])
    second.append(rows()[0][:4])
    workbook.save(tmp_path / "hours.xlsx")
    assert refused("hours", tmp_path / "hours.xlsx") == [
        "第 2 個工作表第 1 列：第 2 個工作表的標題列與第 1 個工作表不同"
    ]


def test_an_enormous_hours_value_is_a_row_error_not_a_crash(setup, csv_file, refused):
    data = rows()
    data[0][5] = "1e30"
    data[1][4] = "2024-13-01"
    assert refused("hours", csv_file("hours", data)) == [
        "第 2 列：hours 超過 99999.9",
        "第 3 列：date 日期格式不正確（應為 YYYY-MM-DD）",
    ]


def test_a_sheet_of_notes_is_passed_over_and_said_so(setup, tmp_path):
    workbook = Workbook()
    first = workbook.active
    for row in [HEADERS["hours"], *rows()]:
        first.append(row)
    notes = workbook.create_sheet("說明")
    notes.append(["本檔由舊系統匯出"])
    workbook.save(tmp_path / "hours.xlsx")
    result = run("import_data", "hours", tmp_path / "hours.xlsx")
    assert result.error is None, result.stderr
    assert "略過第 2 個工作表「說明」：第一列沒有任何匯入欄位名稱" in result.stdout
    assert IssuedHours.objects.count() == 4


def test_a_row_of_blank_cells_is_skipped_whatever_its_width(setup, tmp_path):
    header = list(reversed(HEADERS["hours"]))
    data = [list(reversed(row)) for row in rows()] + [[" "] * 6, [" "] * 7]
    csv_path = tmp_path / "hours.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *data])
    result = run("import_data", "hours", csv_path)
    assert result.error is None, result.stderr
    workbook = Workbook()
    for row in [HEADERS["hours"], *rows(), [" "] * 6]:
        workbook.active.append(row)
    workbook.save(tmp_path / "hours.xlsx")
    result = run("import_data", "hours", tmp_path / "hours.xlsx")
    assert result.error is None, result.stderr
    assert IssuedHours.objects.count() == 4


def test_an_xlsx_that_understates_its_size_is_read_to_the_end(setup, tmp_path):
    workbook = Workbook()
    for row in [HEADERS["hours"], *rows()]:
        workbook.active.append(row)
    workbook.save(tmp_path / "good.xlsx")
    # Some writers leave a stale <dimension>; read-only openpyxl would stop where it says.
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(tmp_path / "good.xlsx") as zin, zipfile.ZipFile(stale, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:F2"/>', data)
                assert count == 1
            zout.writestr(item, data)
    result = run("import_data", "hours", stale)
    assert result.error is None, result.stderr
    assert IssuedHours.objects.count() == 4


def test_notices_and_timings_belong_to_one_import_only(setup, tmp_path, csv_file):
    """The engine keeps nothing between imports: each result carries its own notices and phases."""
    workbook = Workbook()
    for row in [HEADERS["hours"], *rows()]:
        workbook.active.append(row)
    workbook.create_sheet("說明").append(["本檔由舊系統匯出"])
    workbook.save(tmp_path / "hours.xlsx")
    first = imported("hours", tmp_path / "hours.xlsx")
    assert first.notices == ["略過第 2 個工作表「說明」：第一列沒有任何匯入欄位名稱"]
    second = imported("hours", csv_file("hours", rows()))
    assert second.notices == []
    assert len(second.phases) == len(first.phases)
    assert first.notices == ["略過第 2 個工作表「說明」：第一列沒有任何匯入欄位名稱"]


def test_an_import_leaves_no_temporary_table_behind(setup, csv_file):
    imported("hours", csv_file("hours", rows()))
    with pytest.raises(dataexchange.ImportRefused):
        imported("hours", csv_file("hours", [[*rows()[0][:5], "x"]], name="bad.csv"))
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor, include_views=False)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relname FROM pg_class WHERE relpersistence = 't'")
            names += [name for (name,) in cursor.fetchall()]
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master")
            names += [name for (name,) in cursor.fetchall()]
    assert [name for name in names if name.startswith("import_")] == []


@postgresql_only
def test_the_command_says_what_bulk_locks_before_it_starts(setup, csv_file):
    result = run("import_data", "hours", csv_file("hours", rows()), "--bulk")
    assert result.error is None, result.stderr
    warning = result.stdout.splitlines()[0]
    assert warning.startswith("--bulk：重建下列資料表的索引與外鍵")
    assert "courses_issuedhours（讀寫皆須等待）" in warning
    assert "accounts_person（寫入須等待）" in warning and "courses_course（寫入須等待）" in warning


def test_without_bulk_the_command_locks_nothing_and_says_nothing_of_it(setup, csv_file):
    result = run("import_data", "hours", csv_file("hours", rows()))
    assert result.error is None, result.stderr
    assert "--bulk" not in result.stdout
