"""SPEC §9 for the roster: national IDs on no page but the roster download; lists mask names."""

import pytest
from django.urls import reverse

from tests.helpers import signed_in_client

from .conftest import member, teacher_account

pytestmark = pytest.mark.django_db


def test_no_page_of_the_roster_shows_a_national_id(chief, centre, teacher, school):
    people = [member(school, name=f"王{n}明", email=f"w{n}@example.org") for n in range(3)]
    teacher_account(people[0].person)
    ids = [m.person.reveal_national_id() for m in [*people, *teacher.person.memberships.all()]]
    pages = {
        chief: [
            reverse("teachers:roster"),
            reverse("teachers:roster") + "?supervision=on&size=50",
            reverse("teachers:register"),
            reverse("teachers:member", args=[people[0].pk]),
            reverse("teachers:end", args=[people[1].pk]),
        ],
        centre: [reverse("teachers:centre-counts")],
        teacher: [reverse("teachers:profile")],
    }
    for user, urls in pages.items():
        client = signed_in_client(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert not any(nid in html for nid in ids), url
    public = signed_in_client(teacher)
    public.logout()
    for url in (reverse("teachers:apply"), reverse("teachers:apply-done")):
        assert not any(nid in public.get(url).content.decode() for nid in ids)


def test_the_roster_list_masks_names(chief, school):
    member(school, name="歐陽志明")
    html = signed_in_client(chief).get(reverse("teachers:roster")).content.decode()
    assert "歐OO明" in html and "歐陽志明" not in html
