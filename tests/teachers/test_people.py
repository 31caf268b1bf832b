"""The operator corrects a mistyped national ID and merges two person records (issue 10 point 8)."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts.models import Person
from courses.models import Course, IssuedHours
from planning.models import TeacherPlan
from teachers import people, reassign
from teachers.models import Membership, TeacherAccount
from teachers.services import RosterError
from tests.factories import MembershipFactory, PersonFactory, valid_national_id
from tests.helpers import signed_in_client
from tests.teachers.conftest import teacher_account


def person_entries(person):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Person), object_pk=str(person.pk)
    )


def test_the_operator_corrects_a_mistyped_national_id(operator, school):
    person = MembershipFactory(unit=school).person
    right = valid_national_id(9001)
    client = signed_in_client(operator)
    response = client.post(
        reverse("teachers:correct-id"),
        {"current_id": person.reveal_national_id(), "name": person.name, "new_id": right, "confirmed": "on"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.reveal_national_id() == right
    assert person.memberships.count() == 1
    entry = person_entries(person).get(additional_data__event="更正身分證字號")
    assert entry.actor == operator
    assert right not in str(entry.changes) and right not in str(entry.additional_data)


def test_a_national_id_held_by_another_person_is_not_taken(operator, school):
    person, other = PersonFactory(), PersonFactory()
    with pytest.raises(RosterError, match="合併"):
        people.person_national_id_correct(
            actor=operator, person=person, new_national_id=other.reveal_national_id()
        )
    assert Person.objects.get(pk=person.pk).national_id_digest == person.national_id_digest


def test_only_the_operator_corrects_national_ids(chief, teacher, school):
    person = MembershipFactory(unit=school).person
    data = {
        "current_id": person.reveal_national_id(),
        "name": person.name,
        "new_id": valid_national_id(9002),
        "confirmed": "on",
    }
    for user in (chief, teacher):
        assert signed_in_client(user).post(reverse("teachers:correct-id"), data).status_code == 403
        with pytest.raises(RosterError):
            people.person_national_id_correct(
                actor=user, person=person, new_national_id=valid_national_id(9002)
            )
    assert Person.objects.get(pk=person.pk).reveal_national_id() == person.reveal_national_id()


def test_a_wrong_name_refuses_the_correction(operator):
    person = PersonFactory()
    response = signed_in_client(operator).post(
        reverse("teachers:correct-id"),
        {
            "current_id": person.reveal_national_id(),
            "name": "別人",
            "new_id": valid_national_id(9003),
            "confirmed": "on",
        },
    )
    assert "姓名與此身分證字號登錄的資料不符" in response.content.decode()
    assert Person.objects.get(pk=person.pk).reveal_national_id() == person.reveal_national_id()


@pytest.fixture
def pair(school, other_school):
    keep = MembershipFactory(unit=school, start_date=dt.date(2021, 8, 1)).person
    duplicate = PersonFactory(name=keep.name, email="dup@example.org")
    Membership.objects.create(
        person=duplicate,
        unit=other_school,
        start_date=dt.date(2015, 8, 1),
        end_date=dt.date(2021, 7, 31),
        end_reason="轉校",
    )
    course = Course.objects.create(code="C-1", title="研習", organiser=school)
    IssuedHours.objects.create(person=duplicate, course=course, date=dt.date(2020, 3, 1), hours=3)
    TeacherPlan.objects.create(person=duplicate, year=112)
    teacher_account(duplicate)
    return keep, duplicate


def test_merging_moves_memberships_hours_plans_and_accounts_and_is_audited(operator, pair):
    keep, duplicate = pair
    response = signed_in_client(operator).post(
        reverse("teachers:merge"),
        {
            "keep_id": keep.reveal_national_id(),
            "duplicate_id": duplicate.reveal_national_id(),
            "confirmed": "on",
        },
    )
    assert response.status_code == 302
    assert not Person.objects.filter(pk=duplicate.pk).exists()
    assert keep.memberships.count() == 2
    assert IssuedHours.objects.get().person == keep
    assert TeacherPlan.objects.get().person == keep
    assert TeacherAccount.objects.get().person == keep
    entry = person_entries(keep).get(additional_data__event="合併人員資料")
    assert entry.actor == operator
    assert entry.additional_data["moved"] == {
        "服務紀錄": 1,
        "教師帳號": 1,
        "研習時數": 1,
        "教師自我進修規劃": 1,
    }
    assert duplicate.reveal_national_id() not in str(entry.changes)


def test_the_higher_layers_register_their_reassigners():
    assert set(reassign.REASSIGNERS.items()) >= {"courses.IssuedHours", "planning.TeacherPlan"}


def test_overlapping_service_refuses_the_merge_and_nothing_moves(operator, pair, school):
    keep, duplicate = pair
    Membership.objects.create(person=duplicate, unit=school, start_date=dt.date(2022, 8, 1))
    with pytest.raises(RosterError, match="重疊"):
        people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    assert Person.objects.filter(pk=duplicate.pk).exists()
    assert duplicate.memberships.count() == 2 and IssuedHours.objects.get().person == duplicate


def test_a_plan_of_the_same_year_on_both_refuses_the_merge(operator, pair):
    keep, duplicate = pair
    TeacherPlan.objects.create(person=keep, year=112)
    with pytest.raises(RosterError, match="同一學年度"):
        people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    # Undone whole: the memberships moved before the plans were checked went back.
    assert duplicate.memberships.count() == 1 and TeacherAccount.objects.get().person == duplicate


def test_two_teacher_accounts_refuse_the_merge(operator, pair):
    keep, duplicate = pair
    teacher_account(keep)
    with pytest.raises(RosterError, match="教師帳號"):
        people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    assert Person.objects.filter(pk=duplicate.pk).exists()


def test_only_the_operator_merges(chief, pair):
    keep, duplicate = pair
    response = signed_in_client(chief).post(
        reverse("teachers:merge"),
        {
            "keep_id": keep.reveal_national_id(),
            "duplicate_id": duplicate.reveal_national_id(),
            "confirmed": "on",
        },
    )
    assert response.status_code == 403
    assert Person.objects.filter(pk=duplicate.pk).exists()


def test_a_refused_form_does_not_write_the_national_ids_back(operator, pair):
    keep, duplicate = pair
    teacher_account(keep)  # two teacher accounts: refused
    html = (
        signed_in_client(operator)
        .post(
            reverse("teachers:merge"),
            {
                "keep_id": keep.reveal_national_id(),
                "duplicate_id": duplicate.reveal_national_id(),
                "confirmed": "on",
            },
        )
        .content.decode()
    )
    assert "教師帳號" in html
    assert keep.reveal_national_id() not in html and duplicate.reveal_national_id() not in html


# issue 17 point 2: the pages answer a refusal by its kind (409 a clash), the wording on the form


def test_a_merge_clash_answers_409_with_the_rule_s_wording(operator, pair):
    keep, duplicate = pair
    teacher_account(keep)  # two teacher accounts: the merge cannot move them
    response = signed_in_client(operator).post(
        reverse("teachers:merge"),
        {
            "keep_id": keep.reveal_national_id(),
            "duplicate_id": duplicate.reveal_national_id(),
            "confirmed": "on",
        },
    )
    assert response.status_code == 409
    assert str(people.MSG_TWO_TEACHER_ACCOUNTS) in response.content.decode()
    assert Person.objects.filter(pk=duplicate.pk).exists()


def test_a_correction_to_a_taken_id_answers_409_with_the_rule_s_wording(operator):
    person, other = PersonFactory(), PersonFactory()
    response = signed_in_client(operator).post(
        reverse("teachers:correct-id"),
        {
            "current_id": person.reveal_national_id(),
            "name": person.name,
            "new_id": other.reveal_national_id(),
            "confirmed": "on",
        },
    )
    assert response.status_code == 409
    assert str(people.MSG_ID_TAKEN) in response.content.decode()
    assert Person.objects.get(pk=person.pk).reveal_national_id() != other.reveal_national_id()
