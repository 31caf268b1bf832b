"""Browser journey (issue 20 point 2): the operator makes next year's planning cycle from the last one in
the portal, edits a window in ROC dates, reads the error in words and the change log; axe on every page."""

import datetime as dt
import re

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from playwright.sync_api import expect

from core.roc import format_roc_date
from inservice.demo import DEMO_TOTP_SECRET
from planning.models import PlanKind, PlanningCycle
from tests.e2e.conftest import assert_accessible, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_operator_copies_a_cycle_edits_a_window_in_roc_and_sees_the_change_log(page):
    call_command("seed_demo")
    last = PlanningCycle.objects.order_by("-year").first()
    sign_in(page, "operator1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    page.get_by_role("navigation", name="主選單").get_by_role("link", name="進修規劃年度").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("進修規劃年度")
    assert_accessible(page)

    year = last.year + 1
    page.get_by_role("button", name=f"由 {last.year} 學年度複製建立 {year} 學年度").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{year} 學年度進修規劃")
    expect(page.get_by_role("status")).to_contain_text("順延一年")
    assert_accessible(page)
    cycle = PlanningCycle.objects.get(year=year)
    assert cycle.windows.count() == last.windows.count() > 0

    window = (
        cycle.windows.filter(kind=PlanKind.TEACHER).select_related("authority").order_by("authority__code")[0]
    )
    old_last = window.last_day
    page.get_by_role("link", name=f"修改{window.authority.name}教師自我進修規劃期程").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("修改填報期程")
    assert_accessible(page)

    # A range that ends before it starts: said in words, focus on the summary, nothing stored.
    page.get_by_label("開始日期").fill(f"{year}/10/20")
    page.get_by_label("截止日期").fill(f"{year}/10/1")
    page.get_by_role("button", name="儲存").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("不可早於開始日期")
    expect(page.locator("body")).not_to_contain_text("window_last_day_not_before_first")
    assert_accessible(page)
    window.refresh_from_db()
    assert window.last_day == old_last

    page.get_by_label("開始日期").fill(f"{year}/10/1")
    page.get_by_label("截止日期").fill(f"{year}年10月20日")
    page.get_by_role("button", name="儲存").click()
    expect(page.get_by_role("status")).to_contain_text("填報期程已儲存")
    window.refresh_from_db()
    assert (window.first_day, window.last_day) == (dt.date(year + 1911, 10, 1), dt.date(year + 1911, 10, 20))
    assert LogEntry.objects.get_for_object(window).filter(action=LogEntry.Action.UPDATE).count() == 1

    # The cut-off in ROC date and time.
    page.get_by_label("教師名單截止時間").fill(f"{year - 1}/8/10 09:30")
    page.get_by_role("button", name="儲存年度設定").click()
    expect(page.get_by_role("status")).to_contain_text("設定已儲存")
    cycle.refresh_from_db()
    assert cycle.roster_cutoff.astimezone(dt.UTC) == dt.datetime(year + 1910, 8, 10, 1, 30, tzinfo=dt.UTC)

    page.get_by_role("link", name="所有異動紀錄").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("進修規劃年度異動紀錄")
    first_row = page.get_by_role("table").locator("tbody tr").first
    expect(first_row).to_contain_text("修改")
    expect(first_row).to_contain_text("operator1")
    expect(first_row).to_contain_text(f"{year - 1}年8月10日 09:30")
    expect(page.get_by_role("table")).to_contain_text(
        re.compile(re.escape(f"截止日期：{format_roc_date(old_last)} → {year}年10月20日"))
    )
    assert_accessible(page)
