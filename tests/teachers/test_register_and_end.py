"""Issue 10 points 6 and 7: 教師資料登錄 (moving a person here) and 離職/轉校/退休."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Person
from courses.models import IssuedHours
from teachers.models import EndReason, Membership
from tests.factories import valid_national_id
from tests.helpers import signed_in_client

from .conftest import issue_hours, member, subject

pytestmark = pytest.mark.django_db

REGISTER = "/unit/teachers/register/"


def register(client, nid, name, start=None, **extra):
    data = {
        "national_id": nid,
        "name": name,
        "category": "教師",
        "title": "教師",
        "start_date": (start or timezone.localdate()).isoformat(),
        **extra,
    }
    return client.post(REGISTER, data)


def test_register_a_new_teacher(chief, school):
    nid = valid_national_id(301)
    response = register(
        signed_in_client(chief), nid, "林新進", subjects=[subject("數學").pk], email="lin@example.org"
    )
    assert response.status_code == 302 and nid not in response["Location"]
    person = Person.objects.by_national_id(nid).get()
    membership = person.memberships.get()
    assert (membership.unit, membership.end_date, membership.source) == (school, None, "教師資料登錄")
    assert [s.name for s in membership.subjects.all()] == ["數學"] and person.email == "lin@example.org"


def test_a_person_serving_elsewhere_is_moved_here_with_history_kept(chief, school, far_school):
    old = member(far_school, name="張轉入", start=dt.date(2015, 8, 1))
    issue_hours(old.person, 3, day=dt.date(2020, 3, 1))
    client = signed_in_client(chief)
    start = timezone.localdate()
    asked = register(client, old.person.reveal_national_id(), "張轉入", start=start)
    assert asked.status_code == 200 and "確認轉入本單位" in asked.content.decode()
    response = client.post(REGISTER, {"step": "confirm"})
    assert response.status_code == 302
    old.refresh_from_db()
    assert (old.end_date, old.end_reason) == (start - dt.timedelta(days=1), EndReason.TRANSFERRED)
    assert old.person.memberships.get(end_date__isnull=True).unit == school
    assert IssuedHours.objects.filter(person=old.person).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "並自其他單位轉入本單位；原單位已收到通知" in page and far_school.name not in page


def test_a_person_already_here_is_refused_with_a_message(chief, school):
    here = member(school, name="王在職")
    before = list(Membership.objects.values_list("pk", "end_date"))
    nid = here.person.reveal_national_id()
    response = register(signed_in_client(chief), nid, "王在職")
    page = response.content.decode()
    assert response.status_code == 409 and "此教師已在本單位的教師名單中" in page
    assert nid not in page  # never echoed back, not even into the form
    assert list(Membership.objects.values_list("pk", "end_date")) == before


def test_a_name_that_differs_from_the_record_is_refused(chief, school, other_school):
    other = member(other_school, name="陳本名")
    response = register(signed_in_client(chief), other.person.reveal_national_id(), "陳別名")
    assert response.status_code == 409 and "姓名與本網站登錄的資料不符" in response.content.decode()
    assert other.person.memberships.get().end_date is None


def test_register_is_forbidden_to_clerk_teacher_and_centre(clerk, teacher, centre, school):
    nid = valid_national_id(302)
    for user in (clerk, teacher, centre):
        assert register(signed_in_client(user), nid, "某人").status_code == 403
    assert not Person.objects.by_national_id(nid).exists()


def test_register_a_future_start_is_refused(chief, school):
    response = register(signed_in_client(chief), valid_national_id(303), "未來人", start=dt.date(2999, 1, 1))
    assert response.status_code == 400 and "到職日期不可晚於今天" in response.content.decode()


def end_url(membership):
    return reverse("teachers:end", args=[membership.pk])


def test_retirement_needs_a_confirmation_step_then_leaves_the_roster(chief, school):
    leaving = member(school, name="許退休", start=dt.date(2000, 8, 1))
    issue_hours(leaving.person, 6, day=dt.date(2020, 3, 1))
    client = signed_in_client(chief)
    data = {"reason": EndReason.RETIRED, "end_date": "2024-07-31"}
    first = client.post(end_url(leaving), data)
    assert first.status_code == 200 and "確認轉出" in first.content.decode()
    leaving.refresh_from_db()
    assert leaving.end_date is None  # nothing changed before the confirmation
    done = client.post(end_url(leaving), {**data, "confirmed": "True"})
    assert done.status_code == 302
    leaving.refresh_from_db()
    assert (leaving.end_date, leaving.end_reason) == (dt.date(2024, 7, 31), EndReason.RETIRED)
    assert Membership.objects.filter(pk=leaving.pk).exists()  # history kept
    assert IssuedHours.objects.filter(person=leaving.person).count() == 1
    assert "已將 許O休 以「退休」轉出本單位教師名單" in client.get("/unit/teachers/").content.decode()
    again = client.get("/unit/teachers/").content.decode()
    assert "已將 許O休" not in again  # the message shows once
    # Out of the roster table; listed only among the recent endings the unit may undo.
    assert 'scope="row">許O休' not in again and "最近轉出（可撤銷）" in again


def test_end_reason_must_be_one_of_the_three(chief, school):
    leaving = member(school)
    response = signed_in_client(chief).post(
        end_url(leaving), {"reason": EndReason.IMPORTED, "end_date": "2024-07-31", "confirmed": "True"}
    )
    assert response.status_code == 200  # the form refuses the choice
    leaving.refresh_from_db()
    assert leaving.end_date is None


def test_end_is_404_for_another_school_and_403_for_a_clerk(actors, clerk, school):
    other_chief = actors("chief").outsider
    leaving = member(school)
    data = {"reason": EndReason.LEFT, "end_date": "2024-07-31", "confirmed": "True"}
    assert signed_in_client(other_chief).post(end_url(leaving), data).status_code == 404
    assert signed_in_client(clerk).post(end_url(leaving), data).status_code == 403
    leaving.refresh_from_db()
    assert leaving.end_date is None


def test_manager_updates_teacher_data(chief, school):
    m = member(school, name="吳更新", subjects=["數學"])
    response = signed_in_client(chief).post(
        reverse("teachers:member", args=[m.pk]),
        {
            "category": "行政職員",
            "title": "組長",
            "subjects": [subject("國語文").pk],
            "email": "wu@example.org",
        },
    )
    assert response.status_code == 302
    m.refresh_from_db()
    m.person.refresh_from_db()
    assert (m.category, m.title, m.person.email) == ("行政職員", "組長", "wu@example.org")
    assert [s.name for s in m.subjects.all()] == ["國語文"]


def test_member_page_shows_no_national_id(chief, school):
    m = member(school)
    page = signed_in_client(chief).get(reverse("teachers:member", args=[m.pk])).content.decode()
    assert "編輯帳號個人資料" in page and "更新教師資料" in page and "啟用教師帳號" not in page
    assert m.person.reveal_national_id() not in page
