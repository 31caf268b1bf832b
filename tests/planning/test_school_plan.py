"""學校本位進修規劃 (SPEC §6, issue 12 points 3, 4, 6): answers as rows, windows, read-only, scope."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import BusinessAccountType
from planning import services
from planning.models import PlanKind, PlanningCycle, PlanningWindow, SchoolPlan, SchoolPlanAnswer
from tests.conftest import skip_or_fail
from tests.factories import BusinessAccountFactory, SchoolFactory
from tests.helpers import refused_page, signed_in_client
from tests.planning.conftest import (
    FULL_ANSWERS,
    ONE_MICROSECOND,
    SCHOOL_CLOSES,
    SCHOOL_OPENS,
    plan_post,
    taipei,
)

URL = "/unit/plan/"


def _answers(plan):
    return sorted(plan.answers.values_list("question", "option"))


def test_an_unknown_option_code_is_refused_by_the_database(school):
    plan = SchoolPlan.objects.create(school=school, year=113)
    SchoolPlanAnswer.objects.create(plan=plan, question="mode", option="non_credit")
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolPlanAnswer.objects.create(plan=plan, question="mode", option="saturday")


def test_the_same_option_is_stored_once_per_plan(school):
    plan = SchoolPlan.objects.create(school=school, year=113)
    SchoolPlanAnswer.objects.create(plan=plan, question="time", option="saturday")
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolPlanAnswer.objects.create(plan=plan, question="time", option="saturday")


def test_docs_list_every_answer_code():
    from pathlib import Path

    from planning.choices import OPTIONS

    text = (Path(__file__).parents[2] / "docs" / "planning.md").read_text()
    for question, options in OPTIONS.items():
        assert f"`{question}`" in text
        for code, label in options:
            assert f"`{code}`" in text and str(label) in text, code


def test_draft_saved_many_times_then_submitted_once_stores_answers_as_rows(chief, clock):
    clock(SCHOOL_OPENS)
    client = signed_in_client(chief)
    assert client.post(URL, plan_post("draft", time=["sunday"])).status_code == 302
    assert client.post(URL, plan_post("draft")).status_code == 302
    plan = SchoolPlan.objects.get()
    assert plan.submitted_at is None and plan.student_count == 320
    response = client.post(URL, plan_post("submit"))
    assert response.status_code == 302 and response.url == reverse("planning:survey", args=["school"])
    plan.refresh_from_db()
    assert plan.submitted_at == SCHOOL_OPENS
    expected = sorted((q, o) for q, options in FULL_ANSWERS.items() for o in options)
    assert _answers(plan) == expected


def test_submit_needs_every_group_and_the_student_count(chief, clock):
    clock(SCHOOL_OPENS)
    response = signed_in_client(chief).post(URL, {"action": "submit", "mode": ["non_credit"]})
    assert response.status_code == 200
    assert "確認送出前，請至少勾選一項。" in response.content.decode()
    assert "確認送出前，請填寫學生總數。" in response.content.decode()
    assert not SchoolPlan.objects.exists()


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        (SCHOOL_OPENS - ONE_MICROSECOND, False),
        (SCHOOL_OPENS, True),
        (SCHOOL_CLOSES, True),
        (SCHOOL_CLOSES + ONE_MICROSECOND, False),
    ],
    ids=["before", "first-second", "last-second-1700", "after-1700"],
)
def test_submission_counts_only_inside_the_window(chief, clock, instant, accepted):
    clock(instant)
    response = signed_in_client(chief).post(URL, plan_post("submit"))
    if accepted:
        assert response.status_code == 302
        assert SchoolPlan.objects.get().submitted_at == instant
    else:
        assert response.status_code == 409
        assert "113年8月15日 00:00 至 113年8月23日 17:00" in response.content.decode()
        assert not SchoolPlan.objects.exists()


def test_each_authority_has_its_own_window(taipei_school, clock):
    chief = BusinessAccountFactory(unit=taipei_school, type=BusinessAccountType.CHIEF).user
    clock(taipei(2024, 8, 15, 9, 0))  # 屏東縣 open, 臺北市 closed since 8/14 17:00
    assert signed_in_client(chief).post(URL, plan_post("submit")).status_code == 409
    clock(taipei(2024, 8, 14, 17, 0))
    assert signed_in_client(chief).post(URL, plan_post("submit")).status_code == 302


def test_a_post_after_1700_from_a_page_opened_before_changes_nothing(chief, clock):
    clock(SCHOOL_CLOSES - ONE_MICROSECOND * 60_000_000)
    client = signed_in_client(chief)
    client.post(URL, plan_post("draft", students=10))
    page = client.get(URL).content.decode()
    assert 'value="submit"' in page
    clock(SCHOOL_CLOSES + ONE_MICROSECOND * 1_000_000)
    response = client.post(URL, plan_post("submit", students=999))
    assert response.status_code == 409
    plan = SchoolPlan.objects.get()
    assert plan.submitted_at is None and plan.student_count == 10


def test_outside_the_window_the_form_is_read_only_and_states_the_window(chief, clock):
    clock(SCHOOL_OPENS - ONE_MICROSECOND)
    page = signed_in_client(chief).get(URL).content.decode()
    assert "尚未開放填報" in page
    assert "113年8月15日 00:00 至 113年8月23日 17:00" in page
    assert 'value="submit"' not in page and "disabled" in page


def test_after_submit_the_plan_is_read_only_and_a_later_post_changes_nothing(chief, contact, clock):
    clock(SCHOOL_OPENS)
    signed_in_client(chief).post(URL, plan_post("submit"))
    before = _answers(SchoolPlan.objects.get())
    page = signed_in_client(contact).get(URL).content.decode()
    assert "確認送出，內容僅供檢視" in page and 'value="submit"' not in page
    response = signed_in_client(contact).post(URL, plan_post("draft", time=["winter"], students=1))
    assert response.status_code == 409
    plan = SchoolPlan.objects.get()
    assert _answers(plan) == before and plan.student_count == 320


def test_autosave_answers_json_and_refuses_outside_the_window(chief, clock):
    client = signed_in_client(chief)
    clock(SCHOOL_OPENS)
    response = client.post(URL, plan_post("draft"), HTTP_X_AUTOSAVE="1")
    assert response.status_code == 200 and response.json()["saved"] is True
    clock(SCHOOL_CLOSES + ONE_MICROSECOND)
    response = client.post(URL, plan_post("draft", students=5), HTTP_X_AUTOSAVE="1")
    # A closed window is a conflict (409), not a refusal of the person (403); the same code and
    # wording as the page.
    assert response.status_code == 409
    assert response.json() == {
        "saved": False,
        "code": "window_closed",
        "message": "目前不在填報期間（113年8月15日 00:00 至 113年8月23日 17:00），無法儲存或送出；資料未變更。",
        "details": [],
    }
    assert SchoolPlan.objects.get().student_count == 320


def test_a_clerk_gets_403(clerk, clock):
    clock(SCHOOL_OPENS)
    client = signed_in_client(clerk)
    assert client.get(URL).status_code == 403
    assert client.post(URL, plan_post("submit")).status_code == 403
    assert not SchoolPlan.objects.exists()


def test_a_kindergarten_is_outside_the_school_plan(authority, clock):
    from accounts.models import Stage

    kindergarten = SchoolFactory(authority=authority, stage=Stage.KINDERGARTEN)
    chief = BusinessAccountFactory(unit=kindergarten, type=BusinessAccountType.CHIEF).user
    clock(SCHOOL_OPENS)
    client = signed_in_client(chief)
    assert "貴單位不在本學年度學校本位進修規劃的範圍內" in refused_page(client.get(URL), 403, "not_in_scope")
    assert "貴單位不在本學年度學校本位進修規劃的範圍內" in refused_page(
        client.post(URL, plan_post("submit")), 403, "not_in_scope"
    )
    assert not SchoolPlan.objects.exists()


def test_before_any_cycle_the_page_says_the_plans_are_not_open(chief):
    PlanningCycle.objects.all().delete()
    response = signed_in_client(chief).get(URL)
    assert response.status_code == 200 and "本學年度的進修規劃尚未開放" in response.content.decode()


def test_an_autosave_with_a_field_error_saves_nothing_and_says_which_field_in_json(chief, clock):
    clock(SCHOOL_OPENS)
    response = signed_in_client(chief).post(URL, plan_post("draft", students=-1), HTTP_X_AUTOSAVE="1")
    assert response.status_code == 400
    body = response.json()
    assert (body["saved"], body["code"], body["message"]) == (
        False,
        "form_invalid",
        "有欄位需要修正，草稿未儲存。",
    )
    assert len(body["details"]) == 1 and body["details"][0].startswith("學生總數")
    assert not SchoolPlan.objects.exists()


def test_another_schools_plan_answers_404(chief, other_school, clock):
    plan = SchoolPlan.objects.create(school=other_school, year=113)
    assert (
        signed_in_client(chief).get(reverse("planning:school-plan-detail", args=[plan.pk])).status_code == 404
    )


def test_a_school_plan_is_visible_to_its_school_its_centre_and_its_teachers(
    chief, centre, teacher, school, clock
):
    clock(SCHOOL_OPENS)
    plan = SchoolPlan.objects.create(school=school, year=113, student_count=5)
    url = reverse("planning:school-plan-detail", args=[plan.pk])
    for user in (chief, centre, teacher):
        assert signed_in_client(user).get(url).status_code == 200


def test_a_centre_of_another_authority_gets_404(school, taipei_city):
    centre = BusinessAccountFactory(unit=taipei_city, type=BusinessAccountType.CHIEF).user
    plan = SchoolPlan.objects.create(school=school, year=113)
    assert (
        signed_in_client(centre).get(reverse("planning:school-plan-detail", args=[plan.pk])).status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_one_plan_per_school_when_two_representatives_submit_at_once(school, chief, contact, clock):
    if connection.vendor != "postgresql":
        skip_or_fail("row locks under concurrent submits need PostgreSQL (SQLite serialises writers)")
    # A transactional test may follow another that flushed the shipped 113 schedule: restore what it needs.
    cycle, _ = PlanningCycle.objects.get_or_create(
        year=113, defaults={"roster_cutoff": taipei(2024, 8, 2, 17)}
    )
    PlanningWindow.objects.get_or_create(
        cycle=cycle,
        kind=PlanKind.SCHOOL,
        authority=school.authority,
        defaults={"first_day": SCHOOL_OPENS.date(), "last_day": SCHOOL_CLOSES.date()},
    )
    clock(SCHOOL_OPENS)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(user):
        try:
            barrier.wait()
            services.school_plan_save(actor=user, student_count=100, answers=FULL_ANSWERS, submit=True)
            outcomes.append("ok")
        except services.PlanningError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(user,)) for user in (chief, contact)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert SchoolPlan.objects.filter(school=school).count() == 1
    assert SchoolPlanAnswer.objects.count() == sum(len(v) for v in FULL_ANSWERS.values())
