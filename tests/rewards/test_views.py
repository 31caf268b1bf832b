"""獎勵作業, 獎勵名單 and 獎勵查詢: who may do and see what (SPEC §7, §9), and the downloads."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import BusinessAccountType
from rewards.models import RewardRun, RunStatus
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


def test_a_second_start_is_refused_with_a_clear_message(world, operator):
    client = signed_in_client(operator)
    client.post(JOB, {"year": YEAR})
    response = client.post(JOB, {"year": YEAR})
    assert response.status_code == 409
    assert "第 113 學年度的獎勵作業已在執行中" in response.content.decode()
    assert RewardRun.objects.filter(status=RunStatus.QUEUED).count() == 1


@pytest.mark.parametrize("role", ["clerk", "chief", "contact", "centre", "teacher"])
def test_only_the_operator_may_start_the_job(world, role, request):
    user = request.getfixturevalue(role)
    client = signed_in_client(user)
    before = RewardRun.objects.count()
    assert client.get(JOB).status_code == 403
    assert client.post(JOB, {"year": YEAR}).status_code == 403
    assert RewardRun.objects.count() == before


def test_operator_cancels_a_waiting_run(world, operator):
    client = signed_in_client(operator)
    client.post(JOB, {"year": YEAR})
    run = RewardRun.objects.latest("id")
    client.post(reverse("rewards:cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_progress_json_is_for_the_operator_only(world, operator, clerk):
    signed_in_client(operator).post(JOB, {"year": YEAR})
    data = signed_in_client(operator).get(reverse("rewards:job-progress")).json()
    assert data["active"][0]["stage"] == "等待工作程序"
    assert signed_in_client(clerk).get(reverse("rewards:job-progress")).status_code == 403


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
    response = signed_in_client(chief).get(reverse("rewards:download"), {"year": YEAR, "format": "csv"})
    rows = _csv(response)
    teachers = [r for r in rows if r["level"] == "teacher"]
    assert sorted(r["name"] for r in teachers) == ["王mine_a明", "王mine_b明"]
    assert {r["school_code"] for r in rows if r["level"] != "authority"} == {world["mine"].code}
    assert all(r["code"] == "" for r in teachers)


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


def test_an_authority_sees_its_schools_and_teachers_only(world):
    centre = account(world["mine"].authority)
    page = signed_in_client(centre).get(LISTS).content.decode()
    assert world["mine"].name in page and world["neighbour"].name in page
    assert world["far"].name not in page
    rows = _csv(signed_in_client(centre).get(reverse("rewards:download"), {"year": YEAR, "format": "csv"}))
    assert {r["name"] for r in rows if r["level"] == "teacher"} == {
        "王mine_a明",
        "王mine_b明",
        "王neighbour明",
    }
    assert [r["code"] for r in rows if r["level"] == "authority"] == ["10013"]


def test_the_operator_copy_has_the_spec_columns_and_national_ids(world, operator):
    response = signed_in_client(operator).get(reverse("rewards:download"), {"year": YEAR, "format": "csv"})
    rows = _csv(response)
    assert list(rows[0]) == [
        "level", "code", "name", "authority_code", "stage", "value", "national_average", "group_size", "pr",
        "awarded",
    ]  # fmt: skip
    codes = {r["code"] for r in rows if r["level"] == "teacher"}
    assert world["people"]["far"].reveal_national_id() in codes


def test_a_clerk_or_a_teacher_cannot_see_reward_lists(world, clerk, teacher):
    for user in (clerk, teacher):
        client = signed_in_client(user)
        assert client.get(LISTS).status_code == 403
        assert client.get(reverse("rewards:download"), {"year": YEAR, "format": "csv"}).status_code == 403


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


def test_business_accounts_cannot_use_the_teacher_lookup(world, operator):
    assert signed_in_client(account(world["mine"])).get(LOOKUP).status_code == 403
    assert signed_in_client(operator).get(LOOKUP).status_code == 403


def test_operator_reads_runs_in_the_admin_without_adding_or_deleting(world, operator):
    client = signed_in_client(operator)
    run = RewardRun.objects.latest("id")
    assert client.get(reverse("admin:rewards_rewardrun_changelist")).status_code == 200
    assert client.get(reverse("admin:rewards_rewardrun_change", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:rewards_rewardrun_add")).status_code == 403
