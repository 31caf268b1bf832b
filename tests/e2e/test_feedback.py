"""Browser journeys of the 研習回饋問卷 (issue 23 point 4): a participant answers from 我的研習報名,
the organiser reads the results (chart drawn under the CSP, table beside it), edits a questionnaire
and reads the aggregate; axe on every new page, at desktop width and at 375 px."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Person, Unit, User
from courses.models import Course, CourseStatus, Enrolment, EnrolmentStatus, Questionnaire
from inservice.demo import DEMO_TOTP_SECRET, MAIN_SCHOOL, demo_national_id
from tests.e2e.conftest import assert_accessible, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


def seed_course(code="FB-E2E1") -> Course:
    call_command("seed_demo")
    school = Unit.objects.get(code=MAIN_SCHOOL)
    day = timezone.localdate() - dt.timedelta(days=1)
    course = Course.objects.create(
        code=code,
        title="回饋問卷研習",
        organiser=school,
        authority=school.authority,
        start_date=day,
        end_date=day,
        hours=Decimal("3"),
        status=CourseStatus.PENDING,
    )
    person = Person.objects.by_national_id(demo_national_id("T12345678")).get()
    Enrolment.objects.create(
        course=course, person=person, status=EnrolmentStatus.ADMITTED, applied_at=timezone.now()
    )
    return course


def accessible_at_both_widths(page) -> None:
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    # The page itself never scrolls sideways on a phone (tables scroll in their own box).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size(DESKTOP)


def test_a_participant_answers_the_questionnaire_from_my_enrolments(page):
    course = seed_course()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "teacher1")
    expect(page.get_by_role("navigation", name="主選單")).to_be_visible()
    page.goto("/me/enrolments/")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("填寫研習回饋問卷.*「回饋問卷研習」")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("研習回饋問卷")
    accessible_at_both_widths(page)

    # Sent without one score: the error summary names the question, and nothing is recorded.
    for legend in (
        "1. 課程內容符合我的需求",
        "2. 講師講授清楚，對我有幫助",
        "3. 研習教材與講義實用",
        "4. 研習場地與設備合適",
    ):
        page.get_by_role("group", name=legend).get_by_role("radio", name="4 同意").check()
    page.get_by_label("6. 其他建議").fill("希望有更多實作")
    page.get_by_role("button", name="送出問卷").click()
    expect(page.get_by_role("alert")).to_contain_text("整體而言，我對本次研習感到滿意")
    accessible_at_both_widths(page)

    page.get_by_role("group", name="5. 整體而言，我對本次研習感到滿意").get_by_role(
        "radio", name="5 非常同意"
    ).check()
    with page.expect_navigation():
        page.get_by_role("button", name="送出問卷").click()
    expect(page.get_by_text("已送出研習回饋問卷，謝謝您的填答。")).to_be_visible()
    expect(page.get_by_text("已填寫回饋問卷")).to_be_visible()
    page.goto(f"/courses/{course.code}/feedback/")
    expect(page.get_by_role("alert")).to_contain_text("每人只能填寫一次")
    assert_accessible(page)


def test_the_organiser_reads_the_results_edits_and_sees_the_aggregate(page):
    course = seed_course("FB-E2E2")
    from courses import feedback

    teacher = User.objects.get(username="teacher1")
    # Named: an anonymous questionnaire shows its results from 3 answers on (one here).
    Questionnaire.objects.filter(pk=feedback.questionnaire_of(course).pk).update(anonymous=False)
    questions = feedback.questionnaire_of(course).questions.all()
    feedback.feedback_submit(
        actor=teacher,
        course=course,
        raw={q.pk: ("4" if q.kind == "scale" else "場地很好") for q in questions},
    )
    other = seed_other_course()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "chief1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    expect(page.get_by_role("navigation", name="主選單")).to_be_visible()

    page.goto(f"/unit/courses/{course.pk}/feedback/")
    expect(page.get_by_role("heading", level=1)).to_have_text("研習回饋問卷結果")
    canvas = page.locator('canvas[data-chart="item-1"]')
    expect(canvas).to_be_visible()
    assert canvas.evaluate("c => Chart.getChart(c) !== undefined")
    expect(page.get_by_role("table", name="「課程內容符合我的需求」各分數人數")).to_contain_text("4 同意")
    expect(page.get_by_text("場地很好")).to_be_visible()
    accessible_at_both_widths(page)

    with page.expect_navigation():
        page.get_by_role("link", name="編輯回饋問卷").click()
    expect(page.get_by_role("alert").or_(page.locator(".notice"))).to_contain_text("不能再修改")
    accessible_at_both_widths(page)

    page.goto(f"/unit/courses/{other.pk}/feedback/edit/")
    expect(page.get_by_label("第 1 題：題目")).to_have_value("課程內容符合我的需求")
    accessible_at_both_widths(page)
    page.get_by_label("第 7 題：題目").fill("講義是否準時提供")
    page.get_by_label("第 7 題：順序").fill("0")
    page.get_by_label("刪除第 4 題").check()
    with page.expect_navigation():
        page.get_by_role("button", name="儲存問卷").click()
    expect(page.get_by_text("已儲存研習回饋問卷。")).to_be_visible()
    expect(page.get_by_role("heading", level=3).first).to_have_text("1. 講義是否準時提供")

    page.goto("/unit/charts/")
    with page.expect_navigation():
        page.get_by_role("link", name="研習回饋統計（各課程回饋問卷結果合計）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("研習回饋統計")
    expect(page.locator("#cap-units")).to_contain_text("填答情形")
    accessible_at_both_widths(page)


def seed_other_course() -> Course:
    school = Unit.objects.get(code=MAIN_SCHOOL)
    day = timezone.localdate() - dt.timedelta(days=1)
    return Course.objects.create(
        code="FB-E2E3",
        title="尚無填答的研習",
        organiser=school,
        authority=school.authority,
        start_date=day,
        end_date=day,
        hours=Decimal("2"),
        status=CourseStatus.PENDING,
    )
