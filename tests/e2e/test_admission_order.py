"""Browser journey (issue 18 point 1): in 審核錄取 the clerk announces, a teacher who enrols later
joins the end of the waiting list although a seat is free, and the clerk admits the first waiting
person from the list offered in enrolment order. axe on every page."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from courses import services
from courses.choices import Admission
from courses.models import Course, EnrolmentStatus
from tests.courses.conftest import course_fields
from tests.e2e.conftest import AXE_JS, assert_accessible, enter_totp_code
from tests.e2e.test_courses import menu, visit
from tests.e2e.test_sign_in import sign_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _tasks_in_process():
    from inservice.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_clerk_announces_later_enrolee_waits_at_the_end_clerk_admits_the_first_waiting(
    page, browser, live_server
):
    from inservice.demo import DEMO_TOTP_SECRET

    call_command("seed_demo")
    clerk = User.objects.get(username="clerk1")
    school = clerk.business_account.unit
    course = services.course_open(
        actor=clerk,
        course=services.course_register(
            actor=clerk,
            fields=course_fields(title="差異化教學工作坊", capacity=2, admission=Admission.REVIEW),
        ),
    )
    applicants = []
    for _ in range(3):
        user = UserFactory()
        MembershipFactory(person=user.person, unit=school)
        services.enrolment_enrol(actor=user, course=course)
        applicants.append(user.person)

    sign_in(page, "clerk1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    menu(page, "研習課程管理/資料上傳")
    visit(page, page.get_by_role("link", name="差異化教學工作坊"))
    visit(page, page.get_by_role("link", name="審核錄取"))
    page.get_by_role(
        "checkbox", name=re.compile(f"^第 1 位\\s*{re.escape(applicants[0].masked_name)}")
    ).check()
    page.get_by_role("button", name="公告錄取名單").click()
    expect(page.get_by_role("status")).to_contain_text("已公告錄取 1 人")
    assert_accessible(page)

    # A teacher enrolling after the announcement (in a browser of her own) waits at the end,
    # though one seat is free.
    teacher_context = browser.new_context(base_url=live_server.url, locale="zh-TW")
    teacher_context.add_init_script(path=str(AXE_JS))
    teacher_page = teacher_context.new_page()
    teacher_page.set_default_timeout(15_000)
    sign_in(teacher_page, "teacher1")
    teacher_page.goto(f"/courses/{course.code}/")
    assert_accessible(teacher_page)
    teacher_page.get_by_role("button", name="我要報名").click()
    expect(teacher_page.get_by_role("status")).to_contain_text("報名完成，目前狀態：候補")
    teacher_context.close()

    # The clerk, still signed in, comes back to 審核錄取.
    menu(page, "研習課程管理/資料上傳")
    visit(page, page.get_by_role("link", name="差異化教學工作坊"))
    visit(page, page.get_by_role("link", name="審核錄取"))
    options = page.get_by_role("checkbox")
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_have_accessible_name(
        re.compile(f"^第 1 位\\s*{re.escape(applicants[1].masked_name)}")
    )
    expect(options.nth(1)).to_have_accessible_name(
        re.compile(f"^第 2 位\\s*{re.escape(applicants[2].masked_name)}")
    )
    expect(options.nth(2)).to_have_accessible_name(re.compile("^第 3 位\\s*王"))
    # The 409 refusal without a skip reason is in tests/courses/test_admission_order.py.
    page.get_by_role("checkbox").nth(0).check()
    page.get_by_role("button", name="錄取所選候補者").click()
    expect(page.get_by_role("status")).to_contain_text("已自候補名單錄取 1 人")
    assert_accessible(page)

    statuses = dict(Course.objects.get(pk=course.pk).enrolments.values_list("person_id", "status"))
    teacher = User.objects.get(username="teacher1").person_id
    assert statuses == {
        applicants[0].pk: EnrolmentStatus.ADMITTED,
        applicants[1].pk: EnrolmentStatus.ADMITTED,
        applicants[2].pk: EnrolmentStatus.WAITING,
        teacher: EnrolmentStatus.WAITING,
    }
