"""Every roster refusal names its rule (issue 17 point 2): code, kind, HTTP status and zh-Hant wording.

Forbidden → 403, a rule of the data → 409, input the service refuses → 400; nothing changes.
"""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Person
from core.refusals import Kind
from teachers import people, services
from teachers.models import Membership
from tests.factories import valid_national_id
from tests.helpers import refusal_of, signed_in_client

from .conftest import member

pytestmark = pytest.mark.django_db


def test_only_the_operator_corrects_an_id(chief, school):
    person = member(school).person
    refused = refusal_of(
        lambda: people.person_national_id_correct(
            actor=chief, person=person, new_national_id=valid_national_id(901)
        )
    )
    assert (refused.code, refused.kind, refused.status) == ("forbidden", Kind.FORBIDDEN, 403)
    assert str(refused.message) == "只有教師進修網管理者可以更正人員資料。"


def test_correcting_to_the_same_id_is_invalid_input(operator, school):
    person = member(school).person
    refused = refusal_of(
        lambda: people.person_national_id_correct(
            actor=operator, person=person, new_national_id=person.reveal_national_id()
        )
    )
    assert (refused.code, refused.kind, refused.status) == ("same_national_id", Kind.INVALID, 400)
    assert str(refused.message) == "新的身分證字號與目前的相同。"


def test_an_id_that_belongs_to_another_person_is_a_conflict(operator, school):
    person, other = member(school).person, member(school).person
    refused = refusal_of(
        lambda: people.person_national_id_correct(
            actor=operator, person=person, new_national_id=other.reveal_national_id()
        )
    )
    assert (refused.code, refused.status) == ("national_id_taken", 409)


def test_registering_with_a_future_start_answers_400_and_changes_nothing(chief, school):
    nid = valid_national_id(902)
    response = signed_in_client(chief).post(
        reverse("teachers:register"),
        {
            "national_id": nid,
            "name": "未來人",
            "category": "教師",
            "title": "教師",
            "start_date": "2999-01-01",
        },
    )
    assert response.status_code == 400
    assert "到職日期不可晚於今天。" in response.content.decode()
    assert not Person.objects.by_national_id(nid).exists()


def test_registering_someone_already_here_answers_409(chief, school):
    here = member(school, name="王在職")
    before = list(Membership.objects.values_list("pk", "end_date"))
    response = signed_in_client(chief).post(
        reverse("teachers:register"),
        {
            "national_id": here.person.reveal_national_id(),
            "name": "王在職",
            "category": "教師",
            "title": "教師",
            "start_date": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 409
    assert "此教師已在本單位的教師名單中，不需要重新登錄。" in response.content.decode()
    assert list(Membership.objects.values_list("pk", "end_date")) == before


def test_a_manager_of_another_unit_is_forbidden(other_chief, school):
    membership = member(school)
    refused = refusal_of(
        lambda: services.membership_end(
            actor=other_chief, membership=membership, reason="離職", on=membership.start_date
        )
    )
    assert (refused.code, refused.status) == ("forbidden", 403)
    assert str(refused.message) == "您沒有管理此單位教師資料的權限。"
    membership.refresh_from_db()
    assert membership.end_date is None


def test_every_roster_refusal_names_its_rule():
    """RosterError takes no default code: a raise site that names none fails at once."""
    with pytest.raises(TypeError):
        services.RosterError("x")
