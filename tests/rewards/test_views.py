"""獎勵作業, 獎勵名單 and 獎勵查詢: the pages and the downloads (SPEC §7, §9); who may do and see what,
on the shared cast, is tests/rewards/test_permissions.py."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import BusinessAccountType
from rewards import services
from rewards.models import ListExport, RewardRun, RunStatus
from teachers.models import Category
from tests.factories import BusinessAccountFactory, UserFactory
from tests.helpers import signed_in_client
from tests.rewards.conftest import YEAR, give_hours, run_job, school_in, school_plan, teacher_in, teacher_plan

JOB = "/operator/rewards/"
LISTS = "/unit/rewards/"
LOOKUP = "/me/rewards/"


@pytest.fixture
def world(pingtung, taipei, operator_unit):
    """Two schools of 屏東縣 and one of 臺北市, each with teachers who have accounts."""
    mine, neighbour, far = (
        school_in(pingtung, name="屏東甲國小"),
        school_in(pingtung, name="屏東乙國小"),
        school_in(taipei),
    )
    people = {}
    for label, school, hours in (
        ("mine_a", mine, 12),
        ("mine_b", mine, 3),
        ("neighbour", neighbour, 7),
        ("far", far, 5),
    ):
        person = teacher_in(school, name=f"王{label}明")
        give_hours(person, hours)
        teacher_plan(person)
        people[label] = person
    people["staff"] = teacher_in(mine, category=Category.STAFF)
    school_plan(mine)
    run_job()
    return {"mine": mine, "neighbour": neighbour, "far": far, "people": people}


def user_of(person):
    """A teacher account for a roster person (hashing a password is slow: only where needed)."""
    return UserFactory(person=person)


def account(unit, account_type=BusinessAccountType.CHIEF):
    return BusinessAccountFactory(unit=unit, type=account_type).user


# ---------------------------------------------------------------------------- 獎勵作業


def test_operator_starts_the_job_and_sees_the_run_with_who_started_it(world, operator):
    client = signed_in_client(operator)
    response = client.post(JOB, {"year": YEAR})
    assert response.status_code == 302
    run = RewardRun.objects.latest("id")
    assert (run.year, run.status, run.started_by_id) == (YEAR, RunStatus.QUEUED, operator.pk)
    page = client.get(JOB).content.decode()
    assert "等待執行" in page
    assert operator.display_name in page
    assert "執行紀錄" in page


def test_operator_cancels_a_waiting_run(world, operator):
    client = signed_in_client(operator)
    client.post(JOB, {"year": YEAR})
    run = RewardRun.objects.latest("id")
    client.post(reverse("rewards:cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_a_run_no_worker_takes_says_so_and_cancel_goes_once_a_run_starts(world, operator, monkeypatch):
    """Issue 20 point 6: with Redis and no worker the page said nothing and waited for ever."""
    import datetime as dt

    from django.utils import timezone

    from rewards import services

    client = signed_in_client(operator)
    run = RewardRun.objects.create(year=YEAR, class_width=1)
    data = client.get(reverse("rewards:job-progress")).json()["active"][0]
    assert data["queued"] and data["unpicked"] == ""  # just queued: no alarm yet
    RewardRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=services.UNPICKED_AFTER_SECONDS + 5)
    )
    data = client.get(reverse("rewards:job-progress")).json()["active"][0]
    assert "沒有背景工作程序接手" in data["unpicked"] and "make worker" in data["unpicked"]
    page = client.get(JOB).content.decode()
    assert "沒有背景工作程序接手" in page and "取消等待中的作業" in page
    RewardRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    monkeypatch.setattr(services, "_owner_alive", lambda run: True)  # a worker holds it
    data = client.get(reverse("rewards:job-progress")).json()["active"][0]
    assert not data["queued"] and data["unpicked"] == ""
    assert "取消等待中的作業" not in client.get(JOB).content.decode()


# ---------------------------------------------------------------------------- 獎勵名單


def _csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_school_sees_only_its_own_part(world):
    chief = account(world["mine"])
    page = signed_in_client(chief).get(LISTS).content.decode()
    assert "王Om明" not in page  # names are masked in lists
    assert page.count('<th scope="row">王O') == 2
    response = signed_in_client(chief).get(
        reverse("rewards:download"), {"year": YEAR, "format": "csv", "list": "teachers"}
    )
    rows = _csv(response)
    assert sorted(r["姓名"] for r in rows) == ["王mine_a明", "王mine_b明"]
    assert {r["學校代碼"] for r in rows} == {world["mine"].code}
    assert {r["學校"] for r in rows} == {world["mine"].name}  # every teacher row carries its school
    assert "身分證統一編號" not in rows[0]
    schools = _csv(
        signed_in_client(chief).get(
            reverse("rewards:download"), {"year": YEAR, "format": "csv", "list": "schools"}
        )
    )
    assert [r["學校代碼"] for r in schools] == [world["mine"].code]


def test_unit_downloads_never_carry_national_ids(world):
    centre = account(world["mine"].authority)
    for user in (account(world["mine"]), centre):
        for fmt in ("csv", "xlsx"):
            response = signed_in_client(user).get(reverse("rewards:download"), {"year": YEAR, "format": fmt})
            body = b"".join(response.streaming_content)
            if fmt == "xlsx":
                sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
                body = "\n".join(
                    ",".join(str(c) for c in row if c is not None)
                    for row in sheet.iter_rows(values_only=True)
                ).encode()
            for person in world["people"].values():
                assert person.reveal_national_id().encode() not in body


def national_copy(operator, params):
    """The operator asks for a national list, a worker writes it (here in-process), the operator
    takes it from its link: returns the file's response."""
    client = signed_in_client(operator)
    response = client.post(reverse("rewards:export-request"), {"year": YEAR, **params})
    assert response.status_code == 302
    export = ListExport.objects.filter(requested_by=operator).latest("id")
    page = client.get(LISTS, {"year": YEAR}).content.decode()
    assert "等待產生" in page and export.filename in page
    assert services.list_export_produce(export_id=export.pk)
    page = client.get(LISTS, {"year": YEAR}).content.decode()
    link = reverse("rewards:export-file", args=[export.pk])
    assert link in page and "可下載" in page
    return client.get(link)


def test_the_operator_s_spec_copy_has_the_spec_columns_and_national_ids(world, operator):
    rows = _csv(national_copy(operator, {"format": "csv", "layout": "spec"}))
    assert list(rows[0]) == [
        "level", "code", "name", "authority_code", "stage", "value", "national_average", "group_size", "pr",
        "awarded",
    ]  # fmt: skip
    codes = {r["code"] for r in rows if r["level"] == "teacher"}
    assert world["people"]["far"].reveal_national_id() in codes


def test_the_operator_s_people_copy_carries_national_ids_with_the_school(world, operator):
    response = national_copy(operator, {"format": "csv"})
    assert response["Content-Disposition"] == f'attachment; filename="rewards-{YEAR}-national-teachers.csv"'
    rows = _csv(response)
    far = next(r for r in rows if r["身分證統一編號"] == world["people"]["far"].reveal_national_id())
    assert far["學校"] == world["far"].name and far["獲教師獎勵"] in ("是", "否")


def test_the_operator_s_workbook_has_the_three_lists(world, operator):
    response = national_copy(operator, {"format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["主管機關", "學校", "教師"]
    assert [c.value for c in book["教師"][1]][4] == "身分證統一編號"
    assert book["教師"].max_row == 1 + 4  # the four teachers (the staff member is not in the population)


def test_downloads_for_people_have_typed_cells_zh_hant_headers_and_one_number_format(world, operator):
    centre = account(world["mine"].authority)
    response = signed_in_client(centre).get(reverse("rewards:download"), {"year": YEAR, "format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["主管機關", "學校", "教師"]
    teachers = book["教師"]
    header = [c.value for c in teachers[1]]
    assert header[:6] == ["學年度", "主管機關", "學校代碼", "學校", "姓名", "教育階段"]
    assert not any(h.isascii() for h in header if h != "百分等級 PR")
    by_name = {row[4].value: row for row in teachers.iter_rows(min_row=2)}
    row = dict(zip(header, by_name["王mine_a明"], strict=True))
    assert row["學校"].value == world["mine"].name
    assert row["研習時數"].data_type == "n" and row["研習時數"].value == 12
    assert row["研習時數"].number_format == "0.00"
    assert row["百分等級 PR"].data_type == "n" and row["百分等級 PR"].number_format == "0.00"
    assert row["同組人數"].data_type == "n" and row["學年度"].value == YEAR
    submitted = row["教師自我進修規劃送出時間"]
    assert submitted.is_date and submitted.value == dt.datetime(2024, 9, 24, 17, 0, 0)  # Taipei wall clock
    assert row["於填報期程內送出"].value == "是" and row["獲教師獎勵"].value in ("是", "否")
    authority = dict(zip([c.value for c in book["主管機關"][1]], book["主管機關"][2], strict=True))
    assert authority["學校本位進修規劃填報率"].data_type == "n"
    assert authority["學校本位進修規劃填報率"].number_format == "0.00%"
    school = dict(zip([c.value for c in book["學校"][1]], book["學校"][2], strict=True))
    assert school["平均研習時數"].number_format == "0.00" and school["教師數"].data_type == "n"
    formats = {
        c.number_format
        for sheet in book
        for row in sheet.iter_rows(min_row=2)
        for c in row
        if c.data_type == "n" and c.value is not None
    }
    assert formats <= {"0", "0.00", "0.00%"}


def test_the_operator_and_an_authority_search_the_lists_by_school_and_teacher(world, operator):
    client = signed_in_client(operator)
    page = client.get(LISTS, {"year": YEAR, "show": "schools", "school": "屏東甲"}).content.decode()
    assert world["mine"].name in page and world["neighbour"].name not in page
    page = client.get(LISTS, {"year": YEAR, "show": "teachers", "teacher": "neighbour"}).content.decode()
    assert "王On明" not in page  # masked, never the full name
    assert page.count('<th scope="row">王O') == 1 and world["neighbour"].name in page
    page = client.get(LISTS, {"year": YEAR, "show": "teachers", "school": world["far"].code}).content.decode()
    assert world["far"].name in page and world["mine"].name not in page
    centre = signed_in_client(account(world["mine"].authority))
    page = centre.get(LISTS, {"year": YEAR, "show": "teachers", "school": world["far"].code}).content.decode()
    assert "沒有符合查詢的教師" in page  # another authority's school is outside its part
    page = centre.get(LISTS, {"year": YEAR, "show": "teachers"}).content.decode()
    assert page.count('<th scope="row">王O') == 3


def test_the_lists_are_paged(world, operator, monkeypatch):
    monkeypatch.setattr("rewards.views.PAGE_SIZE", 2)
    client = signed_in_client(operator)
    first = client.get(LISTS, {"year": YEAR, "show": "teachers"}).content.decode()
    second = client.get(LISTS, {"year": YEAR, "show": "teachers", "page": 2}).content.decode()
    assert first.count('<th scope="row">王O') == 2 and second.count('<th scope="row">王O') == 2
    assert "第 1 頁，共 2 頁" in first


def test_the_reward_results_are_unchanged_by_the_lists(world):
    """The lists read the published rows; the arithmetic (tests/rewards/test_rules.py) is untouched."""
    from rewards.models import TeacherResult

    awarded = {r.person_id: (r.pr, r.awarded) for r in TeacherResult.objects.all()}
    run_job()
    assert {r.person_id: (r.pr, r.awarded) for r in TeacherResult.objects.all()} == awarded


def test_a_school_without_population_teachers_is_told_why(world, pingtung):
    empty = school_in(pingtung)
    page = signed_in_client(account(empty)).get(LISTS).content.decode()
    assert "不列入學校獎勵計算" in page


# ---------------------------------------------------------------------------- 獎勵查詢


def test_a_teacher_sees_their_own_result_with_the_reason(world):
    user = user_of(world["people"]["mine_a"])
    page = signed_in_client(user).get(LOOKUP).content.decode()
    assert "研習時數 12.00 小時，達全國平均 6.75 小時" in page
    assert "王mine_b明" not in page and "王neighbour明" not in page
    assert "教師自我進修規劃" in page


def test_staff_are_told_why_they_are_outside_the_population(world):
    page = signed_in_client(user_of(world["people"]["staff"])).get(LOOKUP).content.decode()
    assert "身分為「行政職員」，獎勵對象限教師" in page


def test_lookup_before_any_run_says_nothing_is_published(teacher):
    page = signed_in_client(teacher).get(LOOKUP).content.decode()
    assert "尚未公布任何學年度的獎勵名單" in page


def test_operator_reads_runs_in_the_admin_without_adding_or_deleting(world, operator):
    client = signed_in_client(operator)
    run = RewardRun.objects.latest("id")
    assert client.get(reverse("admin:rewards_rewardrun_changelist")).status_code == 200
    assert client.get(reverse("admin:rewards_rewardrun_change", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:rewards_rewardrun_add")).status_code == 403
