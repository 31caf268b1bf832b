"""Issue 16 point 5 and issue 19 point 4: 已申請（待啟用） as its own state, who applied shown beside
the roster, 批次啟用 only for applications with the roster's trusted address, and the list's
統合視導 help text and hours of the current academic year."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.roc import academic_year, academic_year_bounds
from teachers import batch, services
from teachers.models import AccountStatus, ApplicationStatus, TeacherAccount, TeacherApplication
from tests.helpers import signed_in_client

from .conftest import issue_hours, member, teacher_account

pytestmark = pytest.mark.django_db

URL = "/unit/teachers/"
PASSWORD = "a-long-enough-secret"


def apply(django_capture_on_commit_callbacks, person, *, username, email, name=None):
    """申請教師帳號 through the public page (anyone who knows the ID and name can do this)."""
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            reverse("teachers:apply"),
            {
                "national_id": person.reveal_national_id(),
                "name": name or person.name,
                "username": username,
                "email": email,
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    return TeacherApplication.objects.get(person=person, status=ApplicationStatus.WAITING)


def page(client, **query) -> str:
    response = client.get(URL, query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def scene(school, django_capture_on_commit_callbacks):
    """An outsider applied for 林; 黃 applied with the roster's own address; 吳 never applied."""
    lin = member(school, name="林被冒", email="lin@school.example")
    huang = member(school, name="黃本人", email="huang@school.example")
    wu = member(school, name="吳未申")
    active = member(school, name="謝已用")
    teacher_account(active.person)
    forged = apply(
        django_capture_on_commit_callbacks, lin.person, username="outsider", email="x@evil.example"
    )
    genuine = apply(
        django_capture_on_commit_callbacks, huang.person, username="huang", email="huang@school.example"
    )
    return {"lin": lin, "huang": huang, "wu": wu, "active": active, "forged": forged, "genuine": genuine}


def test_the_outsiders_application_is_shown_and_not_offered_to_bulk_enabling(chief, scene):
    text = page(signed_in_client(chief))
    # Who applied, beside the roster's address.
    assert "outsider／x@evil.example" in text and "lin@school.example" in text
    assert "與名冊不符，請逐一確認" in text
    assert f'name="members" value="{scene["lin"].pk}"' not in text
    assert f'name="members" value="{scene["huang"].pk}"' in text


def test_bulk_enabling_refuses_the_outsiders_application(chief, school, scene):
    """The attack: the school ticks everyone and bulk-enables; the outsider gets nothing."""
    response = signed_in_client(chief).post(
        reverse("teachers:enable-many"), {"members": [scene["lin"].pk, scene["huang"].pk]}, follow=True
    )
    assert not TeacherAccount.objects.filter(person=scene["lin"].person).exists()
    assert TeacherAccount.objects.get(person=scene["huang"].person).user.username == "huang"
    assert str(services.MSG_APPLICATION_NOT_MATCHING) in response.content.decode()
    enabled, refused = batch.teacher_accounts_enable(
        actor=chief, unit=school, membership_ids=[scene["lin"].pk]
    )
    assert enabled == [] and len(refused) == 1
    assert not TeacherAccount.objects.filter(person=scene["lin"].person).exists()


def test_a_mismatched_application_needs_the_per_person_confirmation(chief, scene):
    client = signed_in_client(chief)
    member_url = reverse("teachers:member", args=[scene["lin"].pk])
    text = client.get(member_url).content.decode()
    assert "outsider" in text and "x@evil.example" in text and "lin@school.example" in text
    assert "已向本人確認，啟用教師帳號" in text
    enable = reverse("teachers:enable", args=[scene["lin"].pk])
    client.post(enable)  # the plain button is not enough
    assert not TeacherAccount.objects.filter(person=scene["lin"].person).exists()
    client.post(enable, {"application": scene["forged"].pk})
    assert TeacherAccount.objects.get(person=scene["lin"].person).user.username == "outsider"


def test_a_confirmation_does_not_carry_over_to_a_newer_application(
    chief, scene, django_capture_on_commit_callbacks
):
    client = signed_in_client(chief)
    seen = scene["forged"].pk
    apply(django_capture_on_commit_callbacks, scene["lin"].person, username="second", email="y@evil.example")
    client.post(reverse("teachers:enable", args=[scene["lin"].pk]), {"application": seen})
    assert not TeacherAccount.objects.filter(person=scene["lin"].person).exists()


def test_applied_is_its_own_state_with_a_filter(chief, scene):
    client = signed_in_client(chief)
    text = page(client)
    assert "[已申請（待啟用）]" in text and "已申請、等待啟用2人" in text
    applied = page(client, state="applied")
    assert "林O冒" in applied and "黃O人" in applied and "吳O申" not in applied and "謝O用" not in applied
    pending = page(client, state="pending")
    assert "吳O申" in pending and "林O冒" not in pending and "黃O人" not in pending
    active = page(client, state=AccountStatus.ACTIVE)
    assert "謝O用" in active and "吳O申" not in active


def test_the_supervision_filter_states_its_threshold(chief, school):
    member(school, name="任一位")
    text = page(signed_in_client(chief))
    help_text = f"只列出本學年度核發研習時數未達 {settings.SUPERVISION_MIN_HOURS} 小時的教師。"
    assert help_text in text
    assert 'aria-describedby="id_supervision_helptext"' in text and 'id="id_supervision_helptext"' in text


def test_the_list_shows_each_teachers_hours_of_the_current_academic_year(chief, school):
    today = timezone.localdate()
    start, _end = academic_year_bounds(academic_year(today))
    person = member(school, name="時數師").person
    issue_hours(person, 3, day=start)
    issue_hours(person, 2.5, day=today)
    issue_hours(person, 40, day=start - dt.timedelta(days=1))  # last academic year: not counted
    text = page(signed_in_client(chief), q="時數")
    assert "<td>5.5</td>" in text and "45.5" not in text
