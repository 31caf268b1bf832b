"""Error pages: 404 and 403 in the portal layout; the 500 page renders even when the database is down."""

import pytest
from django.test import RequestFactory
from django.urls import get_resolver, reverse

from tests.helpers import signed_in_client


def assert_portal_layout(html: str) -> None:
    assert '<html lang="zh-Hant">' in html
    assert f'<p class="site-name"><a href="{reverse("home")}">全國教師在職進修資訊網</a></p>' in html
    assert '<nav class="site-nav" aria-label="主選單">' in html
    assert '<main id="main"' in html


@pytest.mark.django_db
def test_unknown_page_answers_404_in_the_portal_layout(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_portal_layout(html)
    assert "<h1>找不到頁面</h1>" in html


@pytest.mark.django_db
def test_forbidden_page_answers_403_in_the_portal_layout_with_the_menu(teacher):
    response = signed_in_client(teacher).get(reverse("accounts:unit-accounts"))
    assert response.status_code == 403
    html = response.content.decode()
    assert_portal_layout(html)
    assert "<h1>沒有權限</h1>" in html
    assert ">研習紀錄</a>" in html  # the signed-in teacher's own menu


def test_500_page_renders_with_the_database_blocked(django_db_blocker):
    """No django_db mark: pytest-django refuses every query, so one query in the page would fail it."""
    handler = get_resolver().resolve_error_handler(500)
    with django_db_blocker.block():
        response = handler(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>系統發生錯誤</h1>" in html
    assert '<a href="/">全國教師在職進修資訊網</a>' in html


@pytest.mark.django_db
@pytest.mark.urls("tests.inservice.urls_failing")
def test_a_signed_in_user_gets_the_500_page_while_the_database_is_down(teacher, django_db_blocker):
    """The whole stack, session and all: the first query fails, and the error page must still render."""
    client = signed_in_client(teacher)
    client.raise_request_exception = False
    with django_db_blocker.block():
        response = client.get("/fails/")
    assert response.status_code == 500
    assert "<h1>系統發生錯誤</h1>" in response.content.decode()
