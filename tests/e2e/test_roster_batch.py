"""Browser journey of batch work (issue 10 point 8), axe on every page: a 總負責人 uploads the
school's roster file, sees it imported, then enables two teacher accounts at once."""

import re

import pytest
from celery import current_app
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import BusinessAccount
from inservice.demo import DEMO_TOTP_SECRET
from teachers.models import AccountStatus, Membership, TeacherAccount, TeacherApplication
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_sign_in import sign_in
from tests.factories import valid_national_id
from tests.helpers import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _eager_tasks():
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


def heading(page, text):
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    assert_accessible(page)


def test_chief_uploads_the_roster_file_and_enables_accounts_at_once(page, tmp_path):
    call_command("seed_demo")
    unit = BusinessAccount.objects.get(user__username="chief1").unit
    file = tmp_path / "roster.csv"
    file.write_text(
        "national_id,name,email,unit_code,category,title,subjects,start_date,end_date\n"
        f"{valid_national_id(8801)},批次甲,jia@school.example,{unit.code},教師,教師,,2024-08-01,\n"
        f"{valid_national_id(8802)},批次乙,yi@school.example,{unit.code},教師,教師,,2024-08-01,\n",
        encoding="utf-8",
    )
    sign_in(page, "chief1")
    page.get_by_label(re.compile("驗證碼|Code|代碼")).fill(totp_code(DEMO_TOTP_SECRET))
    page.get_by_role("button", name=re.compile("登入|Sign In|驗證")).click()
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="本單位教師帳號管理").click()
    heading(page, "本單位教師帳號管理")
    page.get_by_role("link", name="批次上傳").click()
    heading(page, "教師名單批次上傳")
    page.get_by_label("教師名單檔案（.xlsx 或 .csv）").set_input_files(str(file))
    page.get_by_role("button", name="上傳並匯入").click()
    heading(page, "教師名單批次上傳")
    expect(page.get_by_text(re.compile("匯入完成"))).to_be_visible()
    assert valid_national_id(8801) not in page.content()
    assert Membership.objects.filter(unit=unit, person__name__in=["批次甲", "批次乙"]).count() == 2

    for n, membership in enumerate(
        Membership.objects.filter(unit=unit, person__name__in=["批次甲", "批次乙"])
    ):
        TeacherApplication.objects.create(
            # With the roster's own address (the school's file wrote it): bulk enabling may take it.
            person=membership.person,
            username=f"batch{n}",
            email=membership.person.email,
            password="x",
        )
    page.get_by_role("link", name="回本單位教師帳號管理").click()
    heading(page, "本單位教師帳號管理")
    page.get_by_label("教師姓名查詢").fill("批次")
    page.get_by_role("button", name="查詢").click()
    heading(page, "本單位教師帳號管理")
    page.get_by_role("checkbox", name="選取 批O甲").check()
    page.get_by_role("checkbox", name="選取 批O乙").check()
    page.get_by_role("button", name="啟用勾選的教師帳號").click()
    heading(page, "本單位教師帳號管理")
    expect(page.get_by_role("status")).to_contain_text("已啟用 2 位教師")
    assert (
        TeacherAccount.objects.filter(person__name__startswith="批次", status=AccountStatus.ACTIVE).count()
        == 2
    )
