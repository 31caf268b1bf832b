"""Screens for people (issue 18 point 9): ROC dates typed everywhere, ROC Asia/Taipei times shown."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roc import format_roc_datetime
from courses import services
from courses.choices import Admission
from courses.models import Course
from teachers.models import Membership
from tests.factories import valid_national_id
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def roc(day: dt.date) -> str:
    return f"{day.year - 1911}/{day.month}/{day.day}"


def test_course_form_takes_roc_dates_and_times(clerk):
    start = timezone.localdate() + dt.timedelta(days=20)
    opens = timezone.localdate() + dt.timedelta(days=1)
    data = {
        "title": "民國日期研習",
        "start_date": roc(start),
        "end_date": f"{start.year - 1911}年{start.month}月{start.day}日",
        "hours": "3",
        "place": "禮堂",
        "mode": "hours",
        "domain": "policy",
        "capacity": "30",
        "enrol_opens_at": f"{roc(opens)} 08:30",
        "enrol_closes_at": f"{roc(opens + dt.timedelta(days=5))} 17:00",
        "admission": "first_come",
    }
    response = signed_in_client(clerk).post(reverse("courses:register"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    course = Course.objects.get()
    assert (course.start_date, course.end_date) == (start, start)
    assert timezone.localtime(course.enrol_opens_at).replace(tzinfo=None) == dt.datetime.combine(
        opens, dt.time(8, 30)
    )
    # Shown back in the ROC calendar, in Asia/Taipei.
    html = signed_in_client(clerk).get(reverse("courses:edit", args=[course.pk])).content.decode()
    assert f'value="{start.year - 1911}年{start.month}月{start.day}日"' in html
    assert f"{opens.year - 1911}年{opens.month}月{opens.day}日 08:30" in html


def test_a_wrong_date_is_refused_with_the_roc_hint_and_nothing_saved(clerk):
    response = signed_in_client(clerk).post(
        reverse("courses:register"), {"title": "x", "start_date": "113/13/40", "end_date": "113/8/5"}
    )
    assert response.status_code == 200 and "例如 113/8/5" in response.content.decode()
    assert not Course.objects.exists()


def test_search_takes_roc_dates(make_course, client):
    course = make_course(title="搜尋民國日期")
    after = client.get(reverse("courses:search"), {"date_from": roc(course.end_date)}).content.decode()
    assert "搜尋民國日期" in after
    later = course.end_date + dt.timedelta(days=1)
    assert (
        "搜尋民國日期"
        not in client.get(reverse("courses:search"), {"date_from": roc(later)}).content.decode()
    )


def test_admit_page_shows_roc_taipei_times(clerk, make_course, make_teacher):
    course = make_course(admission=Admission.REVIEW)
    enrolment = services.enrolment_enrol(actor=make_teacher(), course=course)
    html = signed_in_client(clerk).get(reverse("courses:admit", args=[course.pk])).content.decode()
    assert format_roc_datetime(timezone.localtime(enrolment.applied_at)) in html
    assert enrolment.applied_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") not in html


def test_teacher_register_takes_roc_dates(chief, school):
    start = timezone.localdate() - dt.timedelta(days=3)
    response = signed_in_client(chief).post(
        "/unit/teachers/register/",
        {
            "national_id": valid_national_id(4_242_424),
            "name": "民國到職",
            "category": "教師",
            "title": "教師",
            "start_date": roc(start),
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    assert Membership.objects.get(person__name="民國到職").start_date == start
