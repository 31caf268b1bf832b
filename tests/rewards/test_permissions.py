"""Rewards' permissions on the shared cast (issue 17): for each role the actor, a colleague of the same
unit, an outsider at another school of the same authority and a far outsider under another authority
(tests/conftest.py `actors`) — allowed, forbidden (403, or 404 for what is not theirs), nothing changed.

獎勵作業 and its progress and cancel are the operator's; 獎勵名單 and their downloads are each school
account's own school, each centre's own authority; the national copy (申請下載) is the operator's
alone, its file its requester's; 獎勵查詢 is a teacher's own result.
"""

import csv
import io

import pytest
from django.urls import reverse

from core.refusals import Kind
from rewards import selectors, services
from rewards.errors import RewardError
from rewards.models import ListExport, RewardRun, RunStatus
from tests.helpers import refusal_of, refused_page, signed_in_client
from tests.rewards.conftest import YEAR, give_hours, run_job, school_plan, teacher_plan

JOB = reverse("rewards:job")
PROGRESS = reverse("rewards:job-progress")
LISTS = reverse("rewards:lists")
DOWNLOAD = reverse("rewards:download")
EXPORT = reverse("rewards:export-request")
LOOKUP = reverse("rewards:lookup")

ROLES = ["teacher", "chief", "contact", "clerk", "centre"]


@pytest.fixture
def published(actors, school, other_school, far_school):
    """The teacher cast with hours and plans, one published run: whose rows each actor sees is
    told by the teacher names of each school (the teacher of `school` has 12 hours, its colleague 3)."""
    cast = actors("teacher")
    for user, hours in ((cast.actor, 12), (cast.colleague, 3), (cast.outsider, 7), (cast.far_outsider, 5)):
        give_hours(user.person, hours)
        teacher_plan(user.person)
    school_plan(school)
    run_job()
    names = {
        school.pk: {cast.actor.person.name, cast.colleague.person.name},
        other_school.pk: {cast.outsider.person.name},
        far_school.pk: {cast.far_outsider.person.name},
    }
    return cast, names


def _download(user, which: str, column: str) -> set[str]:
    """One column of the actor's download of a list."""
    response = signed_in_client(user).get(DOWNLOAD, {"year": YEAR, "format": "csv", "list": which})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row[column] for row in csv.DictReader(io.StringIO(text))}


def _teacher_names(user) -> set[str]:
    return _download(user, "teachers", "姓名")


def _runs():
    return sorted(RewardRun.objects.values_list("pk", "status"))


# ---------------------------------------------------------------------------- 獎勵作業


@pytest.mark.parametrize("role", ROLES)
def test_the_job_its_progress_and_cancel_are_forbidden_to_every_unit_and_nothing_changes(
    published, actors, role
):
    waiting = RewardRun.objects.create(year=YEAR + 1, class_width=1)
    before = _runs()
    cast = actors(role)
    for user in (cast.actor, cast.colleague):
        client = signed_in_client(user)
        assert client.get(JOB).status_code == 403
        assert client.post(JOB, {"year": YEAR}).status_code == 403
        assert client.get(PROGRESS).status_code == 403
        assert client.post(reverse("rewards:cancel", args=[waiting.pk])).status_code == 403
    for call in (
        lambda: services.reward_run_start(actor=cast.actor, year=YEAR),
        lambda: services.reward_run_cancel(actor=cast.actor, run_id=waiting.pk),
    ):
        refused = refusal_of(call, RewardError)
        assert (refused.code, refused.kind, str(refused.message)) == (
            "forbidden",
            Kind.FORBIDDEN,
            "只有教師進修網管理者可以執行獎勵作業。",
        )
    assert _runs() == before


def test_the_operator_starts_and_cancels_a_run_and_is_refused_by_code_when_the_state_does_not_allow(
    published, operator
):
    client = signed_in_client(operator)
    assert client.get(PROGRESS).status_code == 200
    assert client.post(JOB, {"year": YEAR}).status_code == 302
    run = RewardRun.objects.get(status=RunStatus.QUEUED)
    assert client.get(PROGRESS).json()["active"][0]["stage"] == "等待工作程序"
    page = refused_page(client.post(JOB, {"year": YEAR}), 409, "already_active")
    assert "第 113 學年度的獎勵作業已在執行中" in page
    assert client.post(reverse("rewards:cancel", args=[run.pk])).status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    before = _runs()
    page = refused_page(client.post(reverse("rewards:cancel", args=[run.pk])), 409, "not_queued")
    assert "只能取消等待執行中的獎勵作業" in page
    assert _runs() == before


# ---------------------------------------------------------------------------- 獎勵名單


@pytest.mark.parametrize("role", ["chief", "contact"])
def test_a_school_account_sees_its_own_school_s_list_only(
    published, actors, school, other_school, far_school, role
):
    _teachers, names = published
    cast = actors(role)
    assert _teacher_names(cast.actor) == names[school.pk]
    assert _teacher_names(cast.colleague) == names[school.pk]
    assert _teacher_names(cast.outsider) == names[other_school.pk]
    assert _teacher_names(cast.far_outsider) == names[far_school.pk]
    page = signed_in_client(cast.outsider).get(LISTS, {"year": YEAR, "show": "schools"}).content.decode()
    assert other_school.name in page and school.name not in page


def test_a_centre_sees_its_authority_s_schools_and_another_centre_does_not(
    published, actors, school, other_school, far_school
):
    _teachers, names = published
    cast = actors("centre")
    own = names[school.pk] | names[other_school.pk]
    assert _teacher_names(cast.actor) == own
    assert _teacher_names(cast.colleague) == own
    assert _teacher_names(cast.far_outsider) == names[far_school.pk]
    page = signed_in_client(cast.far_outsider).get(LISTS, {"year": YEAR, "show": "schools"}).content.decode()
    assert far_school.name in page and school.name not in page and other_school.name not in page
    assert _download(cast.actor, "authorities", "主管機關代碼") == {school.authority.code}
    assert _download(cast.far_outsider, "authorities", "主管機關代碼") == {far_school.authority.code}
    # The machine file is the operator's: not offered to a centre.
    spec = {"year": YEAR, "format": "csv", "layout": "spec"}
    assert signed_in_client(cast.actor).get(DOWNLOAD, spec).status_code == 404


@pytest.mark.parametrize("role", ["teacher", "clerk"])
def test_a_teacher_or_a_clerk_sees_no_list_and_asks_for_none(published, actors, role):
    cast = actors(role)
    for user in (cast.actor, cast.colleague):
        client = signed_in_client(user)
        assert client.get(LISTS).status_code == 403
        assert client.get(DOWNLOAD, {"year": YEAR, "format": "csv"}).status_code == 403
        assert client.post(EXPORT, {"year": YEAR, "format": "csv", "list": "teachers"}).status_code == 403
    refused = refusal_of(lambda: selectors.scope_of(cast.actor), RewardError)
    assert (refused.code, refused.kind, str(refused.message)) == (
        "forbidden",
        Kind.FORBIDDEN,
        "您沒有查看獎勵名單的權限。",
    )
    assert not ListExport.objects.exists()


@pytest.mark.parametrize("role", ["chief", "contact", "centre"])
def test_the_national_copy_is_the_operator_s_alone_and_its_file_its_requester_s(
    published, actors, operator, role
):
    cast = actors(role)
    ask = {"year": YEAR, "format": "csv", "list": "teachers"}
    for user in (cast.actor, cast.colleague):
        page = refused_page(signed_in_client(user).post(EXPORT, ask), 403, "forbidden")
        assert "背景產生的下載僅供管理者的全國名單" in page
    assert not ListExport.objects.exists()
    assert signed_in_client(operator).post(EXPORT, ask).status_code == 302
    export = ListExport.objects.get()
    assert services.list_export_produce(export_id=export.pk)
    link = reverse("rewards:export-file", args=[export.pk])
    assert signed_in_client(operator).get(link).status_code == 200
    for user in (cast.actor, cast.far_outsider):
        assert signed_in_client(user).get(link).status_code == 404
    assert ListExport.objects.count() == 1


# ---------------------------------------------------------------------------- 獎勵查詢


def test_a_teacher_looks_up_their_own_result_only(published):
    cast, _names = published
    own = signed_in_client(cast.actor).get(LOOKUP).content.decode()
    assert "研習時數 12.00 小時" in own and cast.colleague.person.name not in own
    colleague = signed_in_client(cast.colleague).get(LOOKUP).content.decode()
    assert "研習時數 3.00 小時" in colleague and "研習時數 12.00 小時" not in colleague


@pytest.mark.parametrize("role", ["chief", "contact", "clerk", "centre"])
def test_a_business_account_has_no_teacher_lookup(published, actors, role):
    cast = actors(role)
    for user in (cast.actor, cast.colleague):
        assert signed_in_client(user).get(LOOKUP).status_code == 403
