"""The roster's own round trip (issue 19 point 2): 資料下載 and 批次上傳 use the same columns, so a
school downloads, edits in a spreadsheet and uploads back; a template is downloadable; an upload
reports every problem of the file in one pass and refuses an unknown 任教科目."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from teachers.batch import DOWNLOAD_COLUMNS
from teachers.models import EndReason, Membership, RosterUpload, UploadStatus
from tests.factories import valid_national_id
from tests.helpers import signed_in_client
from tests.teachers.conftest import member
from tests.teachers.test_batch import newcomer, roster_csv, state

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def post_upload(django_capture_on_commit_callbacks):
    def post(client, file):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("teachers:upload"), {"file": file})
        assert response.status_code == 302, response.content.decode()[:500]
        return RosterUpload.objects.order_by("-pk").first()

    return post


def downloaded(client):
    response = client.get(reverse("teachers:download"))
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def as_upload(workbook, name="教師名單.xlsx") -> SimpleUploadedFile:
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def column(name: str) -> int:
    return DOWNLOAD_COLUMNS.index(name) + 1


def test_a_downloaded_roster_edited_in_a_spreadsheet_uploads_back(chief, school, post_upload):
    wang = member(school, name="王老師", email="wang@example.org", subjects=["數學"], title="教師")
    lee = member(school, name="李老師", start=dt.date(2015, 8, 1))
    client = signed_in_client(chief)
    workbook = downloaded(client)
    sheet = workbook.active
    rows = {sheet.cell(r, column("姓名")).value: r for r in range(2, sheet.max_row + 1)}
    # The school's edits, as a person makes them in Excel or LibreOffice.
    sheet.cell(rows["王老師"], column("職稱")).value = "導師"
    sheet.cell(rows["王老師"], column("任教科目")).value = "數學、自然科學"
    sheet.cell(rows["李老師"], column("離職日期")).value = "113年7月31日"
    sheet.cell(rows["李老師"], column("異動原因")).value = "退休"
    new_id = valid_national_id(7101)
    sheet.append([new_id, "陳新進", "教師", "教師", "國語文", "", "", "chen@example.org", "113/8/1", "", ""])
    upload = post_upload(client, as_upload(workbook))
    assert upload.status == UploadStatus.DONE, upload.messages
    wang.refresh_from_db()
    assert wang.title == "導師" and sorted(wang.subjects.values_list("name", flat=True)) == [
        "數學",
        "自然科學",
    ]
    lee.refresh_from_db()
    assert (lee.end_date, lee.end_reason) == (dt.date(2024, 7, 31), EndReason.RETIRED)
    newcomer_row = Membership.objects.get(person__name="陳新進")
    assert (newcomer_row.unit, newcomer_row.start_date) == (school, dt.date(2024, 8, 1))
    assert list(newcomer_row.subjects.values_list("name", flat=True)) == ["國語文"]


def test_a_download_uploaded_back_unchanged_changes_nothing(chief, school, post_upload):
    member(school, name="王老師", subjects=["數學", "國語文"], title="導師")
    member(school, name="陳職員", category="行政職員", title="=幹事")  # a cell Excel would run
    client = signed_in_client(chief)
    before = state()
    workbook = downloaded(client)
    titles = {row[1].value: row[3] for row in workbook.active.iter_rows(min_row=2)}
    # A text cell, not a formula, and no apostrophe added.
    assert (titles["陳職員"].value, titles["陳職員"].data_type) == ("=幹事", "s")
    upload = post_upload(client, as_upload(workbook))
    assert upload.status == UploadStatus.DONE, upload.messages
    assert "更新服務紀錄 0" in upload.summary and "新增服務紀錄 0" in upload.summary
    assert state() == before
    assert Membership.objects.get(person__name="陳職員").title == "=幹事"


def test_the_template_has_the_download_columns_and_uploads_when_filled(chief, school, post_upload):
    client = signed_in_client(chief)
    response = client.get(reverse("teachers:upload-template"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [list(row) for row in workbook.active.iter_rows(values_only=True)] == [list(DOWNLOAD_COLUMNS)]
    assert downloaded(client).active[1][0].value == DOWNLOAD_COLUMNS[0]  # the download's own header
    workbook.active.append([valid_national_id(7111), "林範本", "教師", "教師", "", "", "", "", "2024-08-01"])
    assert post_upload(client, as_upload(workbook)).status == UploadStatus.DONE
    assert Membership.objects.filter(unit=school, person__name="林範本").exists()
    html = client.get(reverse("teachers:upload")).content.decode()
    assert reverse("teachers:upload-template") in html and reverse("teachers:download") in html


def test_the_template_is_for_those_who_manage_the_roster(teacher, clerk, centre):
    for user in (teacher, clerk, centre):
        assert signed_in_client(user).get(reverse("teachers:upload-template")).status_code == 403


def school_file(rows) -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.active.append(list(DOWNLOAD_COLUMNS))
    for row in rows:
        workbook.active.append(row)
    return as_upload(workbook)


def school_row(n, name, subjects="", start="113/8/1"):
    return [valid_national_id(n), name, "教師", "教師", subjects, "", "", "", start, "", ""]


def test_an_unknown_subject_is_refused_not_dropped(chief, school, post_upload):
    before = state()
    upload = post_upload(signed_in_client(chief), school_file([school_row(7121, "周老師", "數學、魔法")]))
    assert upload.status == UploadStatus.REFUSED
    assert upload.messages == [
        "第 2 列：任教科目「魔法」不在任教科目清單中（請用清單中的名稱，以「、」分隔）"
    ]
    assert state() == before


def test_every_problem_of_a_school_file_is_reported_in_one_pass(chief, school, post_upload):
    before = state()
    bad_id = school_row(7131, "甲老師")
    bad_id[0] = "A12345"
    rows = [
        school_row(7132, "乙老師", "魔法"),  # an unknown subject
        bad_id,  # the engine's check
        school_row(7133, "丙老師", start="113/2/30"),  # no such day
        school_row(7134, "丁老師"),  # good
        school_row(7135, "戊老師", start=""),  # no start date
    ]
    upload = post_upload(signed_in_client(chief), school_file(rows))
    assert upload.status == UploadStatus.REFUSED
    lines = [message.split("：", 1)[0] for message in upload.messages]
    assert lines == ["第 2 列", "第 3 列", "第 4 列", "第 6 列"], upload.messages
    assert "未寫入任何資料" in upload.summary
    assert state() == before


def test_a_spec_format_file_gets_its_foreign_rows_and_its_other_errors_at_once(
    chief, school, other_school, post_upload
):
    before = state()
    bad = newcomer(7141, school)
    bad[0] = "A12345"
    rows = [newcomer(7142, other_school), bad, newcomer(7143, school), newcomer(7144, other_school)]
    upload = post_upload(signed_in_client(chief), roster_csv(rows))
    assert upload.status == UploadStatus.REFUSED
    lines = [message.split("：", 1)[0] for message in upload.messages]
    assert lines == ["第 2 列", "第 3 列", "第 5 列"], upload.messages
    assert "本單位" in upload.messages[0] and "本單位" in upload.messages[2]
    assert state() == before
