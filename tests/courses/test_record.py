"""研習紀錄 (issue 11 point 5): the academic year, the total against the minimum, the .xlsx and the
printable page, the 研習證明 and its public check, kindergarten hours and the 全國教保資訊網 feed."""

import datetime as dt
import io
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Stage
from core import fonts
from courses import certificates, feeds
from courses.models import (
    Certificate,
    Course,
    CourseStatus,
    FeedStatus,
    IssuedHours,
    KindergartenFeedRecord,
    Tag,
)
from tests.conftest import skip_or_fail
from tests.factories import MembershipFactory, SchoolFactory, UserFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db
RECORD = "/me/learning-record/"


def confirmed_course(unit, code, day, *, hours="3", tags=()):
    course = Course.objects.create(
        code=code,
        title=f"課程{code}",
        organiser=unit,
        authority=unit.authority,
        start_date=day,
        end_date=day,
        hours=Decimal(hours),
        status=CourseStatus.CONFIRMED,
    )
    for name in tags:
        course.tags.add(Tag.objects.get_or_create(name=name)[0])
    return course


def issue(person, course, hours=None):
    return IssuedHours.objects.create(
        person=person, course=course, date=course.end_date, hours=Decimal(hours or course.hours)
    )


def test_a_course_on_31_july_and_one_on_1_august_fall_in_different_academic_years(teacher, school):
    july = confirmed_course(school, "JULY31", dt.date(2025, 7, 31))
    august = confirmed_course(school, "AUG01", dt.date(2025, 8, 1))
    issue(teacher.person, july)
    issue(teacher.person, august)
    client = signed_in_client(teacher)

    year_113 = client.get(RECORD, {"year": 113}).content.decode()
    year_114 = client.get(RECORD, {"year": 114}).content.decode()

    assert "JULY31" in year_113 and "AUG01" not in year_113
    assert "AUG01" in year_114 and "JULY31" not in year_114


@override_settings(SUPERVISION_MIN_HOURS=18)
def test_the_years_total_is_shown_against_the_supervision_minimum(teacher, school):
    issue(teacher.person, confirmed_course(school, "A1", dt.date(2025, 9, 1), hours="10"))
    client = signed_in_client(teacher)
    assert "尚差 8 小時" in client.get(RECORD, {"year": 114}).content.decode()

    issue(teacher.person, confirmed_course(school, "A2", dt.date(2025, 10, 1), hours="8"))
    html = client.get(RECORD, {"year": 114}).content.decode()
    assert "已達標準" in html and "尚差" not in html


def test_a_teacher_sees_only_their_own_record(teacher, school, make_teacher):
    other = make_teacher()
    issue(other.person, confirmed_course(school, "OTHERS", dt.date(2025, 9, 1)))
    issue(teacher.person, confirmed_course(school, "MINE", dt.date(2025, 9, 2)))
    client = signed_in_client(teacher)

    html = client.get(RECORD, {"year": 114}).content.decode()
    sheet = load_workbook(
        io.BytesIO(
            b"".join(client.get(reverse("courses:learning-record-xlsx", args=[114])).streaming_content)
        )
    )
    cells = " ".join(str(c) for row in sheet.active.iter_rows(values_only=True) for c in row if c)

    assert "MINE" in html and "OTHERS" not in html
    assert "MINE" in cells and "OTHERS" not in cells


def test_the_record_is_for_teacher_accounts_only(clerk):
    assert signed_in_client(clerk).get(RECORD).status_code == 403


def test_a_year_outside_the_teachers_years_is_not_found(teacher):
    assert signed_in_client(teacher).get(RECORD, {"year": 80}).status_code == 404


def test_the_xlsx_holds_the_years_rows_and_total(teacher, school):
    issue(teacher.person, confirmed_course(school, "X1", dt.date(2025, 9, 1), hours="2"))
    issue(teacher.person, confirmed_course(school, "X2", dt.date(2025, 12, 1), hours="1.5"))
    issue(teacher.person, confirmed_course(school, "OLD", dt.date(2024, 12, 1), hours="5"))
    response = signed_in_client(teacher).get(reverse("courses:learning-record-xlsx", args=[114]))
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True)
    )
    codes = [row[0] for row in rows[3:] if row[0]]
    assert codes == ["X1", "X2"]
    total = next(row for row in rows if row[1] == "合計")
    assert total[5] == 3.5


def test_the_printable_page_carries_the_print_stylesheet(teacher, school):
    issue(teacher.person, confirmed_course(school, "P1", dt.date(2025, 9, 1)))
    html = (
        signed_in_client(teacher).get(reverse("courses:learning-record-print", args=[114])).content.decode()
    )
    assert "css/courses_print.css" in html and "P1" in html
    css = (Path(settings.BASE_DIR) / "static/css/courses_print.css").read_text()
    assert "@media print" in css and ".site-nav" in css


# 研習證明 -----------------------------------------------------------------------------------------


def need_font():
    if not fonts.available():
        skip_or_fail("no CJK font (apt-get install fonts-noto-cjk)")


def test_a_course_certificate_is_a_pdf_whose_code_anyone_can_check(teacher, school):
    need_font()
    course = confirmed_course(school, "CERT1", dt.date(2025, 9, 1), hours="6")
    issue(teacher.person, course)
    response = signed_in_client(teacher).post(reverse("courses:certificate"), {"course": course.pk})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    cert = Certificate.objects.get(person=teacher.person, course=course)
    assert cert.hours == Decimal("6")

    public = Client().post(
        reverse("courses:certificate-verify"), {"code": certificates.display_code(cert.code)}
    )
    html = public.content.decode()
    assert "CERT1" in html and "6 小時" in html
    assert teacher.person.masked_name in html
    assert teacher.person.name not in html
    assert teacher.person.reveal_national_id() not in html


def test_a_year_certificate_certifies_the_years_total(teacher, school):
    need_font()
    issue(teacher.person, confirmed_course(school, "Y1", dt.date(2025, 9, 1), hours="2"))
    issue(teacher.person, confirmed_course(school, "Y2", dt.date(2026, 7, 31), hours="3"))
    response = signed_in_client(teacher).post(reverse("courses:certificate"), {"year": 114})
    assert response.content.startswith(b"%PDF")
    cert = Certificate.objects.get(person=teacher.person, academic_year=114)
    assert cert.hours == Decimal("5")
    assert "114 學年度" in certificates.verify(cert.code)["subject"]


def test_no_certificate_for_a_course_without_the_teachers_hours(teacher, school, make_teacher):
    other = make_teacher()
    course = confirmed_course(school, "NOTMINE", dt.date(2025, 9, 1))
    issue(other.person, course)
    response = signed_in_client(teacher).post(reverse("courses:certificate"), {"course": course.pk})
    assert response.status_code == 404
    assert not Certificate.objects.exists()


def test_an_unknown_code_is_not_verified_and_a_get_shows_nothing():
    assert (
        "查無此驗證碼"
        in Client().post(reverse("courses:certificate-verify"), {"code": "ABCD-EFGH-JKMN"}).content.decode()
    )
    assert (
        "查驗結果" not in Client().get(reverse("courses:certificate-verify"), {"code": "X"}).content.decode()
    )


def test_certificate_codes_are_random_and_unambiguous():
    codes = {certificates.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 12 and not set(c) & set("01OIL") for c in codes)


# Kindergarten staff and the feed -------------------------------------------------------------------


@pytest.fixture
def kindergarten(authority):
    return SchoolFactory(authority=authority, stage=Stage.KINDERGARTEN)


@pytest.fixture
def kg_teacher(kindergarten):
    user = UserFactory()
    MembershipFactory(person=user.person, unit=kindergarten)
    return user


def test_kindergarten_staff_see_their_tagged_hours_against_18(kg_teacher, kindergarten):
    issue(
        kg_teacher.person,
        confirmed_course(kindergarten, "KG1", dt.date(2025, 9, 1), hours="6", tags=["基本救命術訓練"]),
    )
    issue(
        kg_teacher.person,
        confirmed_course(kindergarten, "KG2", dt.date(2025, 9, 2), hours="4", tags=["性別平等教育"]),
    )
    html = signed_in_client(kg_teacher).get(RECORD, {"year": 114}).content.decode()
    assert "教保研習時數" in html and "6 / 18 小時" in html and "未達法定時數" in html


def test_other_teachers_see_no_kindergarten_figure(teacher, school):
    issue(teacher.person, confirmed_course(school, "S1", dt.date(2025, 9, 1), tags=["安全教育"]))
    assert "教保研習時數" not in signed_in_client(teacher).get(RECORD, {"year": 114}).content.decode()


TODAY = dt.date(2025, 11, 15)


def test_the_feed_sends_each_figure_once_and_again_only_when_it_changes(kg_teacher, kindergarten, tmp_path):
    course = confirmed_course(kindergarten, "KG1", dt.date(2025, 9, 1), hours="6", tags=["安全教育"])
    issue(kg_teacher.person, course)
    adapter = feeds.FileAdapter(tmp_path)

    first = feeds.run(today=TODAY, adapter=adapter)
    body = json.loads((tmp_path / "kindergarten-hours-2025-11.json").read_text())
    mine = [r for r in body["records"] if r["academic_year"] == 114]
    assert first.status == FeedStatus.DONE and first.sent == 2  # this year and the last
    assert mine == [
        {
            "national_id": kg_teacher.person.reveal_national_id(),
            "name": kg_teacher.person.name,
            "unit_code": kindergarten.code,
            "academic_year": 114,
            "hours": "6.0",
        }
    ]

    assert (tmp_path / "kindergarten-hours-2025-11.json").stat().st_mode & 0o077 == 0

    again = feeds.run(today=TODAY, adapter=adapter)
    assert (again.sent, again.unchanged) == (0, 2)

    issue(
        kg_teacher.person,
        confirmed_course(kindergarten, "KG2", dt.date(2025, 10, 1), hours="3", tags=["基本救命術訓練"]),
    )
    third = feeds.run(today=TODAY, adapter=adapter)
    assert (third.sent, third.unchanged) == (1, 1)
    assert KindergartenFeedRecord.objects.get(person=kg_teacher.person, academic_year=114).hours == Decimal(
        "9"
    )


def test_the_feed_leaves_out_staff_of_other_stages(teacher, school, tmp_path):
    issue(teacher.person, confirmed_course(school, "S1", dt.date(2025, 9, 1), tags=["安全教育"]))
    assert feeds.run(today=TODAY, adapter=feeds.FileAdapter(tmp_path)).sent == 0


class _Receiver(BaseHTTPRequestHandler):
    status = 200
    bodies: list = []

    def do_POST(self):  # noqa: N802
        type(self).bodies.append(
            (self.headers["Authorization"], json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        )
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_the_http_adapter_posts_the_batch_and_a_refusal_records_nothing(kg_teacher, kindergarten, receiver):
    issue(
        kg_teacher.person,
        confirmed_course(kindergarten, "KG1", dt.date(2025, 9, 1), hours="6", tags=["安全教育"]),
    )
    adapter = feeds.HttpAdapter(f"http://127.0.0.1:{receiver.server_port}/hours", token="t0k")

    _Receiver.status = 503
    failed = feeds.run(today=TODAY, adapter=adapter)
    assert failed.status == FeedStatus.FAILED and "503" in failed.error
    assert not KindergartenFeedRecord.objects.exists()

    _Receiver.status = 200
    done = feeds.run(today=TODAY, adapter=adapter)
    assert done.status == FeedStatus.DONE and done.sent == 2
    token, body = _Receiver.bodies[-1]
    assert token == "Bearer t0k" and body["period"] == "2025-11" and len(body["records"]) == 2


def test_the_feed_runs_on_the_15th_of_each_month():
    entry = settings.CELERY_BEAT_SCHEDULE["kindergarten-hours-feed"]
    assert entry["task"] == "courses.tasks.send_kindergarten_feed"
    assert entry["schedule"].day_of_month == {15}


def test_without_the_cjk_font_the_teacher_is_told_and_nothing_is_issued(teacher, school, settings, tmp_path):
    course = confirmed_course(school, "NOFONT", dt.date(2025, 9, 1))
    issue(teacher.person, course)
    settings.CJK_FONT_FILES = [str(tmp_path / "missing.ttc")]
    response = signed_in_client(teacher).post(
        reverse("courses:certificate"), {"course": course.pk}, follow=True
    )
    assert "缺少中文字型" in response.content.decode()
    assert not Certificate.objects.exists()


def test_the_record_page_makes_the_same_number_of_queries_for_one_row_or_many(teacher, school):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in_client(teacher)
    issue(teacher.person, confirmed_course(school, "Q0", dt.date(2025, 9, 1)))
    with CaptureQueriesContext(connection) as one:
        client.get(RECORD, {"year": 114})
    for n in range(1, 8):
        issue(teacher.person, confirmed_course(school, f"Q{n}", dt.date(2025, 9, 1 + n), tags=["安全教育"]))
    with CaptureQueriesContext(connection) as many:
        assert client.get(RECORD, {"year": 114}).content.decode().count("Q7") >= 1
    assert len(many) == len(one)
