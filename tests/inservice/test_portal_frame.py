"""A government portal's frame (issue 9, point 22): footer, policy pages, home page, authority order."""

import re

import pytest
from django.urls import reverse

from accounts.authorities import AUTHORITIES, AUTHORITY_ORDER, authority_sort_key
from accounts.models import Unit
from accounts.permissions import ROLE_PERMISSIONS, Role
from inservice.navigation import MENU

USUAL_ORDER_START = ["臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市"]


@pytest.mark.django_db
def test_footer_gives_the_operator_contact_and_the_policy_pages(client):
    html = client.get(reverse("home")).content.decode()
    footer = html[html.index("<footer") :]
    assert "service@inservice.example" in footer
    assert f'href="{reverse("privacy")}"' in footer
    assert f'href="{reverse("accessibility")}"' in footer


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "heading"), [("privacy", "隱私權及資訊安全政策"), ("accessibility", "無障礙聲明")]
)
def test_policy_pages_are_public(client, name, heading):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()


@pytest.mark.django_db
def test_home_page_says_what_each_role_can_do_and_what_is_open(client):
    html = client.get(reverse("home")).content.decode()
    for role in ("教師", "總負責人", "連絡人", "作業人員", "區管中心", "教師進修網管理者"):
        assert f'<th scope="row">{role}</th>' in html
    # Each of the chief's pages is listed, and no page is marked 建置中 any more (every entry is built).
    chief_row = re.search(r'<th scope="row">總負責人</th>\s*<td[^>]*>(.*?)</td>', html, re.S)
    for entry in MENU:
        if entry.perm in ROLE_PERMISSIONS[Role.CHIEF]:
            assert entry.label in chief_row.group(1)
    assert "建置中" not in html


def test_authorities_sort_in_the_usual_order():
    names = dict(AUTHORITIES)
    ordered = [names[code] for code in sorted(names, key=authority_sort_key)]
    assert ordered[:6] == USUAL_ORDER_START
    assert ordered[6:8] == ["宜蘭縣", "新竹縣"]
    assert ordered[-3:] == ["金門縣", "連江縣", "教育部國民及學前教育署"]
    assert set(AUTHORITY_ORDER) == set(names)


@pytest.mark.django_db
def test_directory_lists_the_authorities_in_the_usual_order(client):
    assert Unit.objects.authorities().count() == 23  # the data migration's authorities
    html = client.get(reverse("accounts:directory")).content.decode()
    select = html[html.index('name="authority"') :]
    select = select[: select.index("</select>")]
    names = re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', select)
    assert names[:6] == USUAL_ORDER_START
    assert names[-1] == "教育部國民及學前教育署"
