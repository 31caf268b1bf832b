"""Browser journeys: the operator's 獎勵作業, a school's 獎勵名單, a teacher's 獎勵查詢 (axe on every page)."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accounts.models import BusinessAccountType, Unit, UnitKind
from rewards import services
from rewards.models import ListExport
from tests.e2e.conftest import assert_accessible
from tests.factories import BusinessAccountFactory, UserFactory
from tests.rewards.conftest import (
    ensure_pingtung_113,
    give_hours,
    run_job,
    school_in,
    school_plan,
    teacher_in,
    teacher_plan,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def as_user(page, user, live_server):
    """Sign the browser in as `user` (past the second factor) through a session cookie."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def published():
    authority = ensure_pingtung_113()
    school = school_in(authority, name="屏東測試國小")
    teacher = UserFactory(person__name="林美玲")
    teacher_in(school, person=teacher.person)
    for hours in (3, 8, 12):
        person = teacher_in(school)
        give_hours(person, hours)
        teacher_plan(person)
    give_hours(teacher.person, 10)
    teacher_plan(teacher.person)
    school_plan(school)
    run_job()
    return {"authority": authority, "school": school, "teacher": teacher}


def test_operator_sees_the_job_page_and_starts_a_run(page, live_server, published):
    operator_unit, _ = Unit.objects.get_or_create(
        code="OP9999", defaults={"name": "教師進修網", "kind": UnitKind.OPERATOR}
    )
    operator = BusinessAccountFactory(unit=operator_unit).user
    as_user(page, operator, live_server)
    page.goto("/")
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="獎勵作業").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("獎勵作業")
    expect(page.get_by_role("table", name="各學年度最近一次完成的作業摘要")).to_contain_text("113")
    assert_accessible(page)
    page.get_by_label("學年度").select_option("113")
    page.get_by_role("button", name="開始計算").click()
    expect(page.get_by_role("status")).to_contain_text("第 113 學年度獎勵作業已啟動")
    assert_accessible(page)


def test_school_reads_its_list_and_teacher_reads_the_reason(page, live_server, published):
    chief = BusinessAccountFactory(unit=published["school"], type=BusinessAccountType.CHIEF).user
    as_user(page, chief, live_server)
    page.goto("/")
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="獎勵名單").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("獎勵名單")
    expect(page.get_by_role("table", name="教師獎勵（共 4 人；姓名遮蔽，完整名單請下載）")).to_contain_text(
        "林O玲"
    )
    assert_accessible(page)

    page.context.clear_cookies()
    as_user(page, published["teacher"], live_server)
    page.goto("/")
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="獎勵查詢").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("獎勵查詢")
    expect(page.get_by_text("研習時數 10.00 小時，達全國平均 8.25 小時")).to_be_visible()
    assert_accessible(page)


def test_the_operator_searches_the_lists_by_school_and_teacher(page, live_server, published):
    operator_unit, _ = Unit.objects.get_or_create(
        code="OP9999", defaults={"name": "教師進修網", "kind": UnitKind.OPERATOR}
    )
    as_user(page, BusinessAccountFactory(unit=operator_unit).user, live_server)
    page.goto("/")
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="獎勵名單").click()
    expect(page.get_by_role("table", name="學校獎勵（共 1 校）")).to_contain_text("屏東測試國小")
    assert_accessible(page)
    page.get_by_label("名單", exact=True).select_option(label="教師獎勵")
    page.get_by_label("學校（代碼或名稱）").fill("屏東測試")
    page.get_by_label("教師姓名").fill("美玲")
    page.get_by_role("button", name="查詢").click()
    table = page.get_by_role("table", name="教師獎勵（共 1 人；姓名遮蔽，完整名單請下載）")
    expect(table).to_contain_text("林O玲")
    expect(table).to_contain_text("屏東測試國小")
    expect(table).not_to_contain_text("林美玲")
    assert_accessible(page)


def test_the_operator_asks_for_the_national_list_and_downloads_it_when_ready(page, live_server, published):
    """Issue 17 point 5: 申請下載 → 等待產生 / 產生中 with a refresh link → the link once a worker wrote it."""
    operator_unit, _ = Unit.objects.get_or_create(
        code="OP9999", defaults={"name": "教師進修網", "kind": UnitKind.OPERATOR}
    )
    operator = BusinessAccountFactory(unit=operator_unit).user
    as_user(page, operator, live_server)
    page.goto("/unit/rewards/?year=113")
    page.get_by_role("button", name="申請下載：113 學年度教師獎勵名單（CSV）").click()
    expect(page.get_by_role("status")).to_contain_text("已申請下載，檔案產生中")
    exports = page.get_by_role("table", name="您申請的全國名單（保留一天）")
    expect(exports).to_contain_text("等待產生")
    expect(page.get_by_role("button", name="重新整理，查看產生進度")).to_be_visible()
    assert_accessible(page)
    # The worker's part, here in the test process (tests/integration runs it on a real worker).
    assert services.list_export_produce(export_id=ListExport.objects.get(requested_by=operator).pk)
    page.get_by_role("button", name="重新整理，查看產生進度").click()
    expect(exports).to_contain_text("可下載")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="下載 rewards-113-national-teachers.csv").click()
    assert download.value.suggested_filename == "rewards-113-national-teachers.csv"
    assert "身分證統一編號" in open(download.value.path(), encoding="utf-8-sig").read()
