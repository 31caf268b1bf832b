"""The open-data page (issue 23 point 5), reached from 研習課程查詢: axe at desktop width and 375 px."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_open_data_page_is_reached_from_the_search_and_accessible(page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/courses/")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="欄位說明").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("開放資料：研習課程目錄")
    expect(page.get_by_role("link", name="政府資料開放授權條款－第1版")).to_have_attribute(
        "href", "https://data.gov.tw/license"
    )
    assert_accessible(page)
    page.set_viewport_size({"width": 375, "height": 800})
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
