"""The hours import of a national .csv: COPYed whole, checked per distinct value and by SQL.

Whatever the path, a file imports to the same records and is refused with the same messages as
when read row by row (`Table.rows()`); a file the two CSV parsers might read differently is read
row by row.
"""

import pytest

from core import dataexchange
from courses import importers
from courses.models import Course, IssuedHours
from tests.dataexchange.conftest import imported, postgresql_only, run, snapshot, write_csv
from tests.dataexchange.test_hours import ID1, ID2, rows, setup  # noqa: F401 (fixture)
from tests.factories import valid_national_id

pytestmark = [pytest.mark.django_db, postgresql_only]

HEADER = ["national_id", "course_code", "course_title", "organiser_code", "date", "hours"]


@pytest.fixture
def paths(monkeypatch):
    """Which files took the COPY path: [(file name, copied?)]."""
    taken = []
    real = importers.copy_csv

    def spy(run, table, purpose="raw"):
        copied = real(run, table, purpose)
        taken.append((table.path.name, copied is not None))
        return copied

    monkeypatch.setattr(importers, "copy_csv", spy)
    return taken


def row_by_row(monkeypatch):
    monkeypatch.setattr(importers, "copy_csv", lambda run, table, purpose="raw": None)


def outcome(path):
    before = snapshot()
    result = run("import_data", "hours", path)
    if result.error is not None:
        assert snapshot() == before
        return ("refused", result.error, result.lines)
    records = sorted(
        IssuedHours.objects.values_list("person__name", "course__code", "date", "hours", "source")
    )
    courses = sorted(
        Course.objects.values_list(
            "code", "title", "organiser__code", "start_date", "end_date", "hours", "status"
        )
    )
    return ("imported", records, courses)


def both_ways(path, monkeypatch, paths):
    """The outcome of the file on the COPY path, then row by row (the database put back between)."""
    copied = outcome(path)
    IssuedHours.objects.all().delete()
    Course.objects.all().delete()
    with monkeypatch.context() as m:
        row_by_row(m)
        assert outcome(path) == copied
    return copied


def test_a_good_file_takes_the_copy_path_and_imports_as_row_by_row(setup, tmp_path, monkeypatch, paths):  # noqa: F811
    data = rows() + [
        [" " + ID2 + " ", "'=113A003", " 公式開頭的課程 ", "136601", " 2024-11-01 ", " 2 "],
        [ID2, "'=113A003", " 公式開頭的課程 ", "136601", "2024-11-03", "2.5"],
        ["", " ", "", "", "　", ""],  # a row of blank cells, full-width space included
        [ID1, "113A001", "素養導向教學設計", "136601", "2024-09-04", "3.00"],  # the same record again
    ]
    path = write_csv(tmp_path / "hours.csv", HEADER, data)
    kind, records, courses = both_ways(path, monkeypatch, paths)
    assert kind == "imported" and len(records) == 6
    assert ("=113A003", "公式開頭的課程", "136601") == courses[2][:3]
    assert paths[0] == ("hours.csv", True)


def test_a_bad_file_is_refused_with_the_same_messages_on_both_paths(setup, tmp_path, monkeypatch, paths):  # noqa: F811
    data = rows() + [
        [valid_national_id(99), "113A001", "素養導向教學設計", "136601", "2024-09-05", "1"],
        [ID1[:-1] + str((int(ID1[-1]) + 1) % 10), "113A009", "新課程", "000000", "2024-13-01", "-1"],
        [ID2, "113A002", "校園安全", "10013", "2024-10-03", "1e30"],
        [ID2, "", "無代碼", "10013", "", "x"],
        [ID1, "113A001", "素養導向教學設計", "136601", "2024-09-04", "2"],
        ["", "", "", "", "", ""],
    ]
    path = write_csv(tmp_path / "hours.csv", HEADER, data)
    kind, error, lines = both_ways(path, monkeypatch, paths)
    assert kind == "refused" and paths[0] == ("hours.csv", True)
    assert error == "匯入失敗：共 12 筆錯誤，未寫入任何資料。", lines
    assert not any(ID1 in line or ID2 in line for line in lines)


def test_errors_past_the_cap_are_counted_on_the_copy_path(setup, tmp_path, monkeypatch, paths):  # noqa: F811
    data = [
        [ID1, "113A001", "素養導向教學設計", "136601", f"2024-09-{d:02d}", "-1"] for d in range(1, 29)
    ] * 40
    path = write_csv(tmp_path / "hours.csv", HEADER, data)
    kind, error, lines = both_ways(path, monkeypatch, paths)
    assert error.startswith(f"匯入失敗：共 {28 * 40} 筆錯誤")
    assert len(lines) == dataexchange.MAX_PRINTED_ERRORS + 1 and paths[0] == ("hours.csv", True)


@pytest.mark.parametrize(
    "tail",
    [
        b"\\.\n" + ID2.encode() + b",113A002,\xe6\xa0\xa1,10013,2024-10-05,1\n",  # COPY's end-of-data marker
        ID2.encode() + b',113A002,ab"cd",10013,2024-10-05,1\n',  # a quote inside an unquoted field
        ID2.encode() + b',113A007,"two\nlines",10013,2024-10-05,1\n',  # a quoted field over two lines
        ID2.encode() + b",113A002,\xe6\xa0\xa1,10013,2024-10-05\n",  # a row of another width
        ID2.encode() + b",113A002,\xff,10013,2024-10-05,1\n",  # not UTF-8
        b"\n",  # a blank line
    ],
)
def test_a_file_the_parsers_might_read_apart_is_read_row_by_row(setup, tmp_path, monkeypatch, paths, tail):  # noqa: F811
    path = tmp_path / "hours.csv"
    write_csv(path, HEADER, rows())
    path.write_bytes(path.read_bytes() + tail)
    both_ways(path, monkeypatch, paths)
    assert paths[0] == ("hours.csv", False)


def test_well_quoted_fields_take_the_copy_path(setup, tmp_path, monkeypatch, paths):  # noqa: F811
    data = rows() + [[ID2, "113A004", '課程,含逗號與"引號"', "10013", "2024-10-05", "1"]]
    path = write_csv(tmp_path / "hours.csv", HEADER, data)
    kind, records, courses = both_ways(path, monkeypatch, paths)
    assert ("113A004", '課程,含逗號與"引號"') in [c[:2] for c in courses]
    assert paths[0] == ("hours.csv", True)


def test_a_refused_header_is_refused_before_any_copy(setup, tmp_path, paths):  # noqa: F811
    path = write_csv(tmp_path / "hours.csv", HEADER[:5], [r[:5] for r in rows()])
    with pytest.raises(dataexchange.ImportRefused) as refusal:
        imported("hours", path)
    assert refusal.value.messages == ["第 1 列：缺少欄位 hours"]
