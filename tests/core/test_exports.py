"""core.exports: the one export path (issue 17 point 5).

CSV is streamed (BOM for Excel, zh-Hant header, values as the sheet shows them, formulas inert);
.xlsx is one write-only pass with typed cells; a stored file is Fernet tokens, never plain text.
"""

import csv
import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from core import exports
from core.exports import Column, Kind, Table

COLUMNS = (
    Column("姓名"),
    Column("時數", Kind.DECIMAL),
    Column("人數", Kind.INTEGER),
    Column("填報率", Kind.PERCENT),
    Column("送出時間", Kind.DATETIME),
    Column("獲獎", Kind.YES_NO),
)
WHEN = dt.datetime(2024, 9, 24, 9, 0, tzinfo=dt.UTC)  # 17:00 in Taipei
ROWS = [
    ("王小明", Decimal("12.5"), 3, Decimal("0.6"), WHEN, True),
    ("=HYPERLINK(1)", None, 0, None, None, False),
]


def _table(rows=ROWS):
    return Table("名單", COLUMNS, iter(rows))


def test_a_csv_download_is_streamed_with_the_bom_and_the_sheet_s_values():
    response = exports.csv_response(_table(), "名單.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%90%8D%E5%96%AE.csv"
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff姓名,".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["姓名", "時數", "人數", "填報率", "送出時間", "獲獎"]
    assert rows[1] == ["王小明", "12.50", "3", "60.00%", "2024-09-24 17:00:00", "是"]
    assert rows[2] == ["'=HYPERLINK(1)", "", "0", "", "", "否"]


def test_an_ascii_file_name_is_sent_as_it_is():
    response = exports.csv_response(_table(), "fill-rates-113.csv")
    assert response["Content-Disposition"] == 'attachment; filename="fill-rates-113.csv"'


def test_an_xlsx_download_has_typed_cells_in_one_write_only_pass():
    response = exports.xlsx_response([_table(), Table("說明", (), [("第一行",), ("=不是公式",)])], "a.xlsx")
    assert response.rows == 4
    assert response["Content-Type"] == exports.XLSX_TYPE
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["名單", "說明"]
    sheet = book["名單"]
    assert [c.value for c in sheet[1]] == ["姓名", "時數", "人數", "填報率", "送出時間", "獲獎"]
    assert sheet[1][0].font.bold
    name, hours, count, rate, when, won = sheet[2]
    assert hours.value == 12.5 and hours.number_format == "0.00"
    assert count.data_type == "n" and rate.number_format == "0.00%"
    assert when.is_date and when.value == dt.datetime(2024, 9, 24, 17, 0)
    assert won.value == "是"
    formula = sheet[3][0]
    assert formula.value == "=HYPERLINK(1)" and formula.data_type == "s"
    notes = book["說明"]
    assert [r[0].value for r in notes.iter_rows()] == ["第一行", "=不是公式"]
    assert notes["A2"].data_type == "s"


def test_lines_before_the_header_come_first():
    out = io.BytesIO()
    exports.write_xlsx(out, [Table("紀錄", COLUMNS[:2], [("a", 1)], before=[("標題",), ("期間",)])])
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["標題", "期間", "姓名", "a"]


def test_a_stored_file_is_encrypted_chunk_by_chunk_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_BYTES", 64)  # several tokens even for a small file
    cipher = MultiFernet([Fernet(Fernet.generate_key())])
    path = tmp_path / "out.bin"
    rows = [(f"A1{i:08d}", i, 1, 0, None, True) for i in range(50)]
    table = Table("名單", (Column("身分證"), *COLUMNS[1:]), rows)
    assert exports.write_encrypted(path, [table], suffix="csv", cipher=cipher) == 50
    stored = path.read_bytes()
    assert b"A100000007" not in stored and stored.count(b"\n") > 10
    plain = b"".join(exports.stream_decrypted(path, cipher)).decode("utf-8-sig")
    assert plain.splitlines()[8].startswith("A100000007,")
    path_x = tmp_path / "out.xlsx.bin"
    exports.write_encrypted(path_x, [Table("名單", table.columns, rows)], suffix="xlsx", cipher=cipher)
    book = load_workbook(io.BytesIO(b"".join(exports.stream_decrypted(path_x, cipher))))
    assert book.active["A9"].value == "A100000007"


def test_openpyxl_s_plain_scratch_of_a_stored_workbook_stays_in_the_transient_folder(tmp_path, monkeypatch):
    """A write-only sheet is a plain XML scratch file until the save: beside the stored file
    (TRANSIENT_ROOT, never backed up, purged), not in /tmp, and gone after the save."""
    from openpyxl.worksheet import _writer

    made = []
    original = exports.write

    def spy(*args, **kwargs):
        made.append(_writer.create_temporary_file())
        return original(*args, **kwargs)

    monkeypatch.setattr(exports, "write", spy)
    cipher = MultiFernet([Fernet(Fernet.generate_key())])
    exports.write_encrypted(tmp_path / "x.bin", [_table()], suffix="xlsx", cipher=cipher)
    assert made and all(name.startswith(str(tmp_path)) for name in made)
    restored = _writer.create_temporary_file()
    Path(restored).unlink()
    assert restored.startswith(tempfile.gettempdir())  # restored afterwards
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("openpyxl.")) == [
        Path(made[0]).name
    ]  # the spy's own file; openpyxl removed the sheet's
