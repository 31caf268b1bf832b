"""Issue 10 points 3 and 5: 修改個人基本資料 and 資料下載."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from teachers.models import EndReason, RosterDownload
from tests.helpers import signed_in_client

from .conftest import member, subject, teacher_account

pytestmark = pytest.mark.django_db


def test_download_holds_the_whole_roster_with_ids_and_is_recorded(chief, school, other_school):
    a = member(school, name="謝佩威", email="hsieh@example.org", subjects=["數學", "國語文"], title="導師")
    b = member(school, name="陳志斌", category="行政職員", start=dt.date(2019, 8, 1))
    teacher_account(a.person)
    member(other_school, name="外校人")
    gone = member(school, name="許離職", start=dt.date(2000, 8, 1))
    gone.end_date, gone.end_reason = dt.date(2010, 7, 31), EndReason.LEFT
    gone.save()
    response = signed_in_client(chief).get(reverse("teachers:download"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "身分證字號",
        "姓名",
        "類別",
        "職稱",
        "任教科目",
        "帳號狀況",
        "使用者帳號",
        "電子郵件",
        "到職日期",
        "離職日期",
        "異動原因",
    )
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {"謝佩威", "陳志斌"}
    assert by_name["謝佩威"][0] == a.person.reveal_national_id()
    username = a.person.teacher_account.user.username
    assert by_name["謝佩威"][2:7] == ("教師", "導師", "國語文、數學", "啟用中", username)
    assert by_name["謝佩威"][7] == "hsieh@example.org"
    assert by_name["陳志斌"][5] == "待申請" and by_name["陳志斌"][8] == "108年8月1日"
    assert by_name["陳志斌"][0] == b.person.reveal_national_id()
    record = RosterDownload.objects.get()
    assert (record.actor, record.unit, record.rows) == (chief, school, 2)


def test_download_is_forbidden_to_others(clerk, teacher, centre, school):
    member(school)
    for user in (clerk, teacher, centre):
        assert signed_in_client(user).get(reverse("teachers:download")).status_code == 403
    assert not RosterDownload.objects.exists()


def test_teacher_edits_title_and_several_subjects(teacher, school):
    client = signed_in_client(teacher)
    page = client.get("/me/profile/").content.decode()
    assert "修改個人基本資料" in page and reverse("account_email") in page
    response = client.post(
        "/me/profile/", {"title": "導師", "subjects": [subject("數學").pk, subject("藝術").pk]}
    )
    assert response.status_code == 302
    membership = teacher.person.memberships.get()
    assert membership.title == "導師"
    assert sorted(s.name for s in membership.subjects.all()) == ["數學", "藝術"]


def test_teacher_cannot_pick_a_subject_of_another_stage(teacher, school):
    response = signed_in_client(teacher).post("/me/profile/", {"title": "", "subjects": [subject("物理").pk]})
    assert response.status_code == 200  # 物理 is not on the 國小 list
    assert not teacher.person.memberships.get().subjects.exists()


def test_teacher_sees_the_service_history_in_roc_dates(teacher, school, other_school):
    current = teacher.person.memberships.get()
    page = signed_in_client(teacher).get("/me/profile/").content.decode()
    assert school.name in page and "109年8月1日" in page and "服務中" in page
    assert current.person.reveal_national_id() not in page


def test_business_accounts_have_no_profile_page(chief):
    assert signed_in_client(chief).get("/me/profile/").status_code == 403
