"""我的研習報名 (issue 18 point 5) and 研習時數更正核定 in the menu (issue 18 point 6)."""

import datetime as dt
from decimal import Decimal

import icalendar
import pytest
from django.urls import reverse

from courses import services
from courses.choices import Admission
from courses.models import Course, CourseStatus, EnrolmentStatus, HoursCorrection
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def test_the_page_lists_every_enrolment_with_state_position_and_dates(make_course, make_teacher):
    full = make_course(capacity=1, title="額滿的課")
    other = make_course(title="另一門課")
    ahead, teacher = make_teacher(), make_teacher()
    services.enrolment_enrol(actor=ahead, course=full)
    services.enrolment_enrol(actor=make_teacher(), course=full)  # 候補第 1 位
    services.enrolment_enrol(actor=teacher, course=full)  # 候補第 2 位
    services.enrolment_enrol(actor=teacher, course=other)
    html = signed_in_client(teacher).get(reverse("courses:my-enrolments")).content.decode()
    assert "額滿的課" in html and "另一門課" in html
    assert "候補</strong>（第 2 位）" in html
    assert "錄取" in html
    roc_start = f"{full.start_date.year - 1911}年{full.start_date.month}月{full.start_date.day}日"
    assert roc_start in html
    assert reverse("courses:enrolment-ics", args=[other.enrolments.get(person=teacher.person).number]) in html


def test_only_teachers_see_it_and_only_their_own(make_course, make_teacher, clerk):
    course = make_course(title="別人的課")
    services.enrolment_enrol(actor=make_teacher(), course=course)
    html = signed_in_client(make_teacher()).get(reverse("courses:my-enrolments")).content.decode()
    assert "別人的課" not in html
    assert signed_in_client(clerk).get(reverse("courses:my-enrolments")).status_code == 403


def test_it_is_in_the_teachers_menu(teacher, clerk):
    url = reverse("courses:my-enrolments")
    assert f'href="{url}"' in signed_in_client(teacher).get(reverse("home")).content.decode()
    assert f'href="{url}"' not in signed_in_client(clerk).get(reverse("home")).content.decode()


@pytest.mark.parametrize("action", ["cancel-enrolment", "decline"])
def test_cancel_and_decline_ask_first_and_change_nothing_until_confirmed(make_course, make_teacher, action):
    course = make_course(capacity=1)
    teacher, waiting = make_teacher(), make_teacher()
    services.enrolment_enrol(actor=teacher, course=course)
    services.enrolment_enrol(actor=waiting, course=course)
    client = signed_in_client(teacher)
    url = reverse(f"courses:{action}", args=[course.code])
    page = client.get(url)
    assert page.status_code == 200 and '<form method="post">' in page.content.decode()
    assert course.enrolments.get(person=teacher.person).status == EnrolmentStatus.ADMITTED
    detail = client.get(reverse("courses:detail", args=[course.code])).content.decode()
    assert f'href="{url}"' in detail  # the course page links to the question, it does not act
    response = client.post(url)
    assert response.status_code == 302 and response.url == reverse("courses:my-enrolments")
    assert course.enrolments.get(person=teacher.person).status in (
        EnrolmentStatus.CANCELLED,
        EnrolmentStatus.DECLINED,
    )
    assert course.enrolments.get(person=waiting.person).status == EnrolmentStatus.ADMITTED


def test_mails_on_waiting_promotion_and_admission_go_to_the_account_address(
    make_course, make_teacher, mailoutbox, django_capture_on_commit_callbacks
):
    course = make_course(capacity=1)
    first, second = make_teacher(), make_teacher()
    second.person.email = "roster-only@school.example"
    second.person.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_enrol(actor=first, course=course)
        services.enrolment_enrol(actor=second, course=course)
    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("【錄取通知】校園安全教育研習", [first.email]),
        ("【候補通知】校園安全教育研習", [second.email]),
    ]
    assert "候補第 1 位" in mailoutbox[1].body
    assert "http://127.0.0.1:8000/me/enrolments/" in mailoutbox[1].body
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_cancel(actor=first, course=course)
    assert (mailoutbox[-1].subject, mailoutbox[-1].to) == (
        "【候補遞補錄取通知】校園安全教育研習",
        [second.email],
    )


def test_review_course_mails_the_waiting_at_the_announcement(
    clerk, make_course, make_teacher, mailoutbox, django_capture_on_commit_callbacks
):
    course = make_course(capacity=1, admission=Admission.REVIEW)
    chosen, other = make_teacher(), make_teacher()
    services.enrolment_enrol(actor=chosen, course=course)
    services.enrolment_enrol(actor=other, course=course)
    pick = course.enrolments.get(person=chosen.person).pk
    with django_capture_on_commit_callbacks(execute=True):
        services.course_announce_admission(actor=clerk, course=course, enrolment_ids=[pick])
    assert {(m.subject, m.to[0]) for m in mailoutbox} == {
        ("【錄取通知】校園安全教育研習", chosen.email),
        ("【候補通知】校園安全教育研習", other.email),
    }


@pytest.fixture
def finished(make_course, make_teacher):
    course = make_course(capacity=2)
    teachers = [make_teacher(), make_teacher()]
    for teacher in teachers:
        services.enrolment_enrol(actor=teacher, course=course)
    today = dt.date.today()
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.PENDING,
        start_date=today - dt.timedelta(days=2),
        end_date=today - dt.timedelta(days=1),
    )
    course.enrolments.filter(person=teachers[0].person).update(attended_hours=6)
    course.enrolments.filter(person=teachers[1].person).update(attended_hours=0)
    course.refresh_from_db()
    course.teachers = teachers
    return course


def test_mails_when_hours_are_issued_and_corrected(
    clerk, centre, finished, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://inservice.example.tw"
    attended, absent = finished.teachers
    with django_capture_on_commit_callbacks(execute=True):
        services.course_confirm(actor=clerk, course=finished)
    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("【研習時數核發通知】校園安全教育研習", [attended.email])
    ]
    assert (
        "6" in mailoutbox[0].body and "https://inservice.example.tw/me/learning-record/" in mailoutbox[0].body
    )
    mailoutbox.clear()
    enrolment = finished.enrolments.get(person=absent.person)
    with django_capture_on_commit_callbacks(execute=True):
        correction = services.correction_request(
            actor=clerk, course=finished, enrolment=enrolment, hours_after=Decimal("2"), reason="補登"
        )
    # 研習時數更正核定: the centre's mail links to it with an absolute URL.
    assert mailoutbox[0].to == [centre.email]
    assert "https://inservice.example.tw/centre/hours-corrections/" in mailoutbox[0].body
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.correction_decide(actor=centre, correction=correction, approve=True)
    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("【研習時數更正通知】校園安全教育研習", [absent.email])
    ]
    assert "2.0 小時" in mailoutbox[0].body or "2 小時" in mailoutbox[0].body


def test_ics_of_an_admitted_course_only_for_its_teacher(make_course, make_teacher):
    course = make_course(capacity=1, title="行事曆, 測試;課")
    teacher, waiting = make_teacher(), make_teacher()
    admitted = services.enrolment_enrol(actor=teacher, course=course)
    wait = services.enrolment_enrol(actor=waiting, course=course)
    response = signed_in_client(teacher).get(reverse("courses:enrolment-ics", args=[admitted.number]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert "SUMMARY:行事曆\\, 測試\\;課" in text  # escaped (RFC 5545 §3.3.11)
    assert f"DTSTART;VALUE=DATE:{course.start_date:%Y%m%d}" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    # What a calendar program reads: parsed back with the icalendar package.
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["X-WR-TIMEZONE"] == "Asia/Taipei"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"enrolment-{admitted.number}@testserver"
    assert str(event["SUMMARY"]) == "行事曆, 測試;課"
    assert str(event["LOCATION"]) == course.place
    assert str(event["DESCRIPTION"]) == (
        f"課程代碼 {course.code}，研習時數 {course.hours} 小時，開課單位 {course.organiser.name}。"
    )
    assert event.decoded("DTSTART") == course.start_date
    assert event.decoded("DTEND") == course.end_date + dt.timedelta(days=1)  # exclusive
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["URL"]).endswith(reverse("courses:detail", args=[course.code]))
    # Another teacher's number, or a waiting enrolment: 404.
    assert (
        signed_in_client(waiting).get(reverse("courses:enrolment-ics", args=[admitted.number])).status_code
        == 404
    )
    assert (
        signed_in_client(waiting).get(reverse("courses:enrolment-ics", args=[wait.number])).status_code == 404
    )


def test_ics_text_with_commas_newlines_and_long_titles_round_trips(make_course, make_teacher):
    title = "長標題，" * 30 + "a,b;c\\d"
    course = make_course(title=title, place="臺北市\n第一會議室, 3 樓")
    teacher = make_teacher()
    admitted = services.enrolment_enrol(actor=teacher, course=course)
    response = signed_in_client(teacher).get(reverse("courses:enrolment-ics", args=[admitted.number]))
    assert all(len(line.encode()) <= 75 for line in response.content.decode().split("\r\n"))
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == (title, "臺北市\n第一會議室, 3 樓")


def test_corrections_are_in_the_centre_and_operator_menu_with_the_number_waiting(
    clerk, centre, operator, finished, teacher
):
    services.course_confirm(actor=clerk, course=finished)
    url = reverse("courses:corrections")
    home = signed_in_client(centre).get(reverse("home")).content.decode()
    assert f'href="{url}"' in home and "研習時數更正核定</a>" in home  # nothing waiting: no number
    for person_enrolment in finished.enrolments.all():
        services.correction_request(
            actor=clerk, course=finished, enrolment=person_enrolment, hours_after=Decimal("1"), reason="x"
        )
    assert HoursCorrection.objects.count() == 2
    for user in (centre, operator):
        assert '研習時數更正核定 <span class="badge">（2 件待核定）</span>' in (
            signed_in_client(user).get(reverse("home")).content.decode()
        )
    for user in (clerk, teacher):
        assert f'href="{url}"' not in signed_in_client(user).get(reverse("home")).content.decode()
