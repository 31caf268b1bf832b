"""Menu visibility per role (SPEC §1, §3.2) and the guard on each entry's page."""

import pytest
from django.urls import reverse

from inservice.navigation import MENU
from tests.helpers import signed_in_client

PUBLIC = {"研習課程查詢", "業務帳號查詢", "統計專區"}
EXPECTED = {
    "anonymous": PUBLIC,
    "teacher": PUBLIC | {"修改個人基本資料", "我的研習報名", "研習紀錄", "教師自我進修規劃", "獎勵查詢"},
    "chief": PUBLIC
    | {
        "本單位教師帳號管理",
        "教師資料登錄",
        "本單位業務帳號管理",
        "研習課程登錄",
        "研習課程管理/資料上傳",
        "統計圖表",
        "學校本位進修規劃",
        "獎勵名單",
    },
    "contact": PUBLIC
    | {
        "本單位教師帳號管理",
        "教師資料登錄",
        "研習課程登錄",
        "研習課程管理/資料上傳",
        "統計圖表",
        "學校本位進修規劃",
        "獎勵名單",
    },
    "clerk": PUBLIC | {"研習課程登錄", "研習課程管理/資料上傳", "統計圖表"},
    "centre": PUBLIC
    | {
        "總負責人管理",
        "所屬學校教師帳號統計",
        "填報率",
        "所屬學校規劃彙整",
        "最新消息管理",
        "獎勵名單",
        "統計圖表",
        "研習時數更正核定",
    },
    "operator": PUBLIC
    | {
        "填報率",
        "所屬學校規劃彙整",
        "最新消息管理",
        "獎勵作業",
        "獎勵名單",
        "業務帳號管理（非學校單位）",
        "業務帳號異動紀錄",
        "安全稽核紀錄",
        "管理後台異動紀錄",
        "夜間同步紀錄",
        "進修規劃年度",
        "人員資料更正",
        "統計圖表",
        "研習時數更正核定",
    },
}
ALL_LABELS = {entry.label for entry in MENU}


def menu_labels(response) -> set[str]:
    html = response.content.decode()
    nav = html[html.index('<nav class="site-nav"') : html.index("</nav>")]
    return {label for label in ALL_LABELS if f">{label}</a>" in nav}


def client_for(role, request):
    if role == "anonymous":
        from django.test import Client

        return Client()
    return signed_in_client(request.getfixturevalue(role))


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(EXPECTED))
def test_menu_shows_exactly_the_entries_of_the_role(role, request, school):
    response = client_for(role, request).get(reverse("home"))
    assert response.status_code == 200
    assert menu_labels(response) == EXPECTED[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in EXPECTED if r != "anonymous"])
def test_each_entry_page_is_open_only_to_its_roles(role, request, school):
    client = client_for(role, request)
    for entry in MENU:
        response = client.get(entry.url)
        expected = 200 if entry.label in EXPECTED[role] else 403
        assert response.status_code == expected, (role, entry.label)


@pytest.mark.django_db
def test_signed_out_visitor_is_sent_to_sign_in_for_a_protected_entry():
    response = signed_out_get("/me/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def signed_out_get(path):
    from django.test import Client

    return Client().get(path)


@pytest.mark.django_db
def test_pending_business_account_gets_no_business_menu(school):
    from accounts.models import BusinessAccountStatus
    from tests.factories import BusinessAccountFactory

    pending = BusinessAccountFactory(unit=school, status=BusinessAccountStatus.PENDING).user
    response = signed_in_client(pending).get(reverse("home"))
    assert menu_labels(response) == PUBLIC
    assert signed_in_client(pending).get("/unit/courses/").status_code == 403


@pytest.mark.django_db
def test_admin_link_only_for_the_operator(operator, chief):
    assert "系統管理" in signed_in_client(operator).get("/").content.decode()
    assert "系統管理" not in signed_in_client(chief).get("/").content.decode()
    assert signed_in_client(chief).get("/admin/", follow=True).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "label"), [("teacher", "教師"), ("chief", "總負責人"), ("centre", "區管中心")]
)
def test_header_names_the_role_by_its_label(request, role, label):
    user = request.getfixturevalue(role)
    html = signed_in_client(user).get(reverse("home")).content.decode()
    assert f"{user.display_name}（{label}" in html
