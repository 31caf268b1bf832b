"""Every menu entry a person sees opens for them (issue 19 point 6): each role's menu is walked,
the kindergarten's teacher and chief (outside the planning scope) and a staff member included."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import BusinessAccountType, Stage
from inservice.navigation import MENU
from teachers.models import Category
from tests.conftest import make_business, make_teacher
from tests.factories import MembershipFactory, SchoolFactory, UserFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db

LABEL_BY_URL = {entry.url: entry.label for entry in MENU}


def menu_urls(response) -> list[str]:
    html = response.content.decode()
    nav = html[html.index('<nav class="site-nav"') : html.index("</nav>")]
    return [url for url in LABEL_BY_URL if f'href="{url}"' in nav]


@pytest.fixture
def kindergarten(authority):
    return SchoolFactory(authority=authority, stage=Stage.KINDERGARTEN, name="測試幼兒園")


def staff_member(school):
    user = UserFactory()
    MembershipFactory(person=user.person, unit=school, category=Category.STAFF, title="幹事")
    return user


ROLES = {
    "anonymous": lambda r: None,
    "teacher": lambda r: r.getfixturevalue("teacher"),
    "kindergarten_teacher": lambda r: make_teacher(r.getfixturevalue("kindergarten")),
    "staff_with_teacher_account": lambda r: staff_member(r.getfixturevalue("school")),
    "chief": lambda r: r.getfixturevalue("chief"),
    "contact": lambda r: r.getfixturevalue("contact"),
    "clerk": lambda r: r.getfixturevalue("clerk"),
    "kindergarten_chief": lambda r: make_business(
        r.getfixturevalue("kindergarten"), BusinessAccountType.CHIEF
    ),
    "kindergarten_contact": lambda r: make_business(
        r.getfixturevalue("kindergarten"), BusinessAccountType.CONTACT
    ),
    "university_clerk": lambda r: make_business(r.getfixturevalue("university"), BusinessAccountType.CLERK),
    "centre": lambda r: r.getfixturevalue("centre"),
    "operator": lambda r: r.getfixturevalue("operator"),
}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_menu_entry_a_person_sees_opens_for_them(role, request):
    user = ROLES[role](request)
    client = Client() if user is None else signed_in_client(user)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    urls = menu_urls(home)
    assert urls, role
    refused = {LABEL_BY_URL[url]: client.get(url).status_code for url in urls}
    assert {label: status for label, status in refused.items() if status != 200} == {}, role


def test_the_public_home_page_links_both_applications():
    html = Client().get(reverse("home")).content.decode()
    for label, url in (
        ("申請教師帳號", reverse("teachers:apply")),
        ("申請業務帳號", reverse("accounts:apply")),
    ):
        assert f'<a href="{url}">{label}</a>' in html
    assert Client().get(reverse("teachers:apply")).status_code == 200


def test_the_planning_entries_stay_for_those_inside_the_scope(teacher, chief):
    """The scope test hides only what would refuse: a primary school's teacher and chief keep them."""
    assert "教師自我進修規劃" in signed_in_client(teacher).get(reverse("home")).content.decode()
    assert "學校本位進修規劃" in signed_in_client(chief).get(reverse("home")).content.decode()
