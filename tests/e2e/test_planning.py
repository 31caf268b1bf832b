"""Browser journeys for both plans (SPEC §6, §10): axe on every page; the teacher plan by keyboard alone."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from inservice.demo import DEMO_TOTP_SECRET
from planning.models import PlannedHours, SchoolPlan, SurveyResponse, TeacherPlan
from tests.e2e.conftest import assert_accessible, enter_totp_code
from tests.e2e.test_sign_in import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_chief_drafts_and_submits_the_school_plan_then_answers_the_survey(page):
    call_command("seed_demo")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    sign_in(page, "chief1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    expect(page.get_by_text("您目前可填報")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="學校本位進修規劃").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("學校本位進修規劃")
    expect(page.get_by_role("table")).to_contain_text("王O明")  # names masked in lists
    assert_accessible(page)
    # 確認送出 with nothing chosen: the summary at the top links to each field.
    page.get_by_role("button", name="確認送出").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("學生總數")
    assert_accessible(page)
    page.get_by_label("學生總數").fill("420")
    for group, option in (
        ("在職進修方式", "非學分班-研習時數"),
        ("在職進修時間", "週六"),
        ("在職進修地點", "服務學校"),
        ("主要進修階層", "第二階進階-應用分析"),
        ("主要實施方式", "工作坊"),
        ("主要研習範疇", "班級經營與輔導"),
    ):
        page.get_by_role("group", name=group).get_by_label(option).check()
    page.get_by_role("button", name="儲存草稿").click()
    expect(page.get_by_text("草稿已儲存")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="確認送出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("滿意度問卷")
    assert_accessible(page)
    page.get_by_role("group", name="填報操作容易").get_by_label("非常同意", exact=True).check()
    page.get_by_role("group", name="規劃內容對專業成長有幫助").get_by_label("同意", exact=True).check()
    page.get_by_role("button", name="送出問卷").click()
    expect(page.get_by_text("感謝您填寫滿意度問卷")).to_be_visible()
    expect(page.get_by_text("確認送出，內容僅供檢視")).to_be_visible()
    assert_accessible(page)
    plan = SchoolPlan.objects.get()
    assert plan.submitted_at is not None and plan.student_count == 420 and plan.answers.count() == 6
    assert len(asked) == 2 and all(
        "確定要送出嗎" in message for message in asked
    )  # asked before each 確認送出
    assert SurveyResponse.objects.count() == 1


WANTED = {"non_credit", "summer", "online", "basic", "digital", "curriculum"}


def test_teacher_submits_the_plan_by_keyboard_alone(page):
    call_command("seed_demo")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation before 確認送出, by keyboard too
    sign_in(page, "teacher1")
    assert_accessible(page)
    page.goto("/me/plan/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("教師自我進修規劃")
    assert_accessible(page)
    for _ in range(300):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => ({type: document.activeElement.type, name: document.activeElement.name,"
            " value: document.activeElement.value})"
        )
        if focused["type"] == "checkbox" and focused["value"] in WANTED:
            page.keyboard.press("Space")
        elif focused["name"] == "hours_curriculum":
            page.keyboard.type("6")
        elif focused["type"] == "submit" and focused["value"] == "submit":
            page.keyboard.press("Enter")
            break
    else:
        pytest.fail("the 確認送出 button was never reached by Tab")
    expect(page.get_by_role("heading", level=1)).to_have_text("滿意度問卷")
    assert_accessible(page)
    page.keyboard.press("Tab")
    page.get_by_role("link", name="略過，不填寫").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("確認送出，內容僅供檢視")).to_be_visible()
    assert_accessible(page)
    plan = TeacherPlan.objects.get()
    assert plan.submitted_at is not None
    assert set(plan.answers.values_list("option", flat=True)) == WANTED
    assert PlannedHours.objects.get(plan=plan).hours == 6


def test_public_planning_pages_pass_axe_and_draw_the_chart(page):
    from accounts.models import Unit, User
    from planning import services
    from planning.models import PlanningCycle, TeacherPlanAnswer

    call_command("seed_demo")
    teacher = User.objects.get(username="teacher1")
    cycle = PlanningCycle.objects.order_by("-year").first()
    school = Unit.objects.get(code="134601")
    plan = TeacherPlan.objects.create(
        person=teacher.person, year=cycle.year, school=school, submitted_at=cycle.roster_cutoff
    )
    TeacherPlanAnswer.objects.create(plan=plan, question="mode", option="non_credit")
    operator = User.objects.get(username="operator1")
    services.statistics_publish(actor=operator, cycle_id=cycle.pk, publish=True)
    page.goto("/")
    expect(page.get_by_role("heading", name="進修規劃填報中")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="統計專區").click()
    expect(page.get_by_role("table")).to_contain_text("屏東縣")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('needs-chart'))")
    assert_accessible(page)
    page.goto("/plans/guide/")
    assert_accessible(page)
    page.goto("/news/")
    assert_accessible(page)


def test_both_plan_forms_save_drafts_as_the_user_types(page):
    """Autosave (issue 20 §1): typing and choosing save a draft without a button, and it is in the database."""
    call_command("seed_demo")
    sign_in(page, "chief1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    expect(page.get_by_text("您目前可填報")).to_be_visible()
    page.goto("/unit/plan/")
    page.get_by_label("學生總數").press_sequentially("315")
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("已自動儲存", timeout=10_000)
    plan = SchoolPlan.objects.get()
    assert plan.submitted_at is None and plan.student_count == 315
    page.get_by_role("group", name="在職進修時間").get_by_label("週六").check()
    expect(status).to_contain_text("已自動儲存", timeout=10_000)
    for _ in range(100):  # the second save follows a 1.5 s pause; the status already reads 已自動儲存
        if SchoolPlan.objects.get().answers.filter(option="saturday").exists():
            break
        page.wait_for_timeout(100)
    assert SchoolPlan.objects.get().answers.filter(question="time", option="saturday").exists()
    assert_accessible(page)
    page.reload()
    expect(page.get_by_label("學生總數")).to_have_value("315")

    page.context.clear_cookies()
    sign_in(page, "teacher1")
    page.goto("/me/plan/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("教師自我進修規劃")
    page.locator("[name=hours_curriculum]").press_sequentially("7")
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("已自動儲存", timeout=10_000)
    plan = TeacherPlan.objects.get()
    assert plan.submitted_at is None
    assert PlannedHours.objects.get(plan=plan).hours == 7
    assert_accessible(page)


def test_the_authority_reopens_a_submitted_school_plan_from_the_fill_rates(page):
    """Issue 20 point 4 in the browser: 確認送出 asks first (cancel keeps the draft); the centre opens the
    school's plan from 填報率, reopens it with a reason, and the school sees why."""
    from planning.models import PlanReopening

    call_command("seed_demo")
    sign_in(page, "chief1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    expect(page.get_by_text("您目前可填報")).to_be_visible()
    page.goto("/unit/plan/")
    page.get_by_label("學生總數").fill("420")
    for group, option in (
        ("在職進修方式", "非學分班-研習時數"),
        ("在職進修時間", "週六"),
        ("在職進修地點", "服務學校"),
        ("主要進修階層", "第二階進階-應用分析"),
        ("主要實施方式", "工作坊"),
        ("主要研習範疇", "班級經營與輔導"),
    ):
        page.get_by_role("group", name=group).get_by_label(option).check()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="確認送出").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("學校本位進修規劃")
    page.wait_for_timeout(300)
    assert not SchoolPlan.objects.filter(submitted_at__isnull=False).exists()  # cancelled: still a draft
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="確認送出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("滿意度問卷")
    assert SchoolPlan.objects.get().submitted_at is not None
    chief_session = page.context.cookies()  # a TOTP code is accepted once: come back with this session

    page.context.clear_cookies()
    sign_in(page, "region1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    page.goto("/centre/fill-rates/")
    page.get_by_role("link", name=re.compile("^檢視.*的規劃$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("學校本位進修規劃")
    assert_accessible(page)
    page.get_by_role("link", name="退回修改").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("退回修改")
    assert_accessible(page)
    page.get_by_role("button", name="退回為草稿").click()
    expect(page.get_by_role("alert")).to_contain_text("請填寫退回原因")
    assert_accessible(page)
    page.get_by_label("退回原因").fill("學生總數應為 402")
    page.get_by_role("button", name="退回為草稿").click()
    expect(page.get_by_text("規劃已退回為草稿")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("學生總數應為 402")
    assert_accessible(page)
    assert SchoolPlan.objects.get().submitted_at is None and PlanReopening.objects.count() == 1

    page.context.clear_cookies()
    page.context.add_cookies(chief_session)
    page.goto("/unit/plan/")
    expect(page.locator("#window-state")).to_contain_text("學生總數應為 402")
    assert_accessible(page)


def test_an_authority_schedules_edits_and_withdraws_its_news_item(page):
    """Issue 20 point 8 in the browser, axe on every page: the menu entry, an ROC date, 排程中, 撤下 asks first."""
    import datetime as dt

    from django.utils import timezone

    from planning.models import Announcement

    call_command("seed_demo")
    sign_in(page, "region1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="最新消息管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("最新消息管理")
    assert_accessible(page)
    page.get_by_role("link", name="發布最新消息").click()
    assert_accessible(page)
    later = timezone.localdate() + dt.timedelta(days=3)
    page.get_by_label("標題").fill("研習期程調整")
    page.get_by_label("發布日期").fill(f"{later.year - 1911}/{later.month}/{later.day}")
    page.get_by_role("button", name="發布").click()
    expect(page.get_by_role("table")).to_contain_text("排程中")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^編輯.*研習期程調整")).click()
    page.get_by_label("標題").fill("研習期程調整（更正）")
    page.get_by_role("button", name="儲存").click()
    expect(page.get_by_role("table")).to_contain_text("研習期程調整（更正）")
    page.get_by_role("link", name=re.compile("^撤下")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("撤下最新消息")
    assert_accessible(page)
    assert Announcement.objects.count() == 1
    page.get_by_role("button", name="確定撤下").click()
    expect(page.get_by_text("本單位尚未發布最新消息")).to_be_visible()
    assert not Announcement.objects.exists()


def test_the_authority_reads_its_schools_plans_together(page):
    """Issue 20 point 5: 所屬學校規劃彙整 from the menu, a school's planned and actual hours; axe on each."""
    call_command("seed_demo")
    sign_in(page, "region1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="所屬學校規劃彙整").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("所屬學校規劃彙整")
    expect(page.get_by_role("table", name="在職進修方式")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("table", name="各校學校本位進修規劃與教師規劃時數").get_by_role(
        "link", name=re.compile("規劃與實際時數")
    ).first.click()
    expect(page.get_by_role("heading", name=re.compile("規劃與實際研習時數："))).to_be_visible()
    assert_accessible(page)
