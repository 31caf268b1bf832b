"""The participant list is the attendance file, without national IDs (issue 18 point 4, issue 16 point 6)."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts import national_id
from courses import services
from courses.models import AttendanceUpload, Course, CourseStatus, Enrolment, EnrolmentStatus, UploadStatus
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(make_course, make_teacher, other_school):
    """Two teachers of the organiser's school, one of another school, one on the waiting list."""
    course = make_course(capacity=3)
    teachers = [make_teacher(), make_teacher(), make_teacher(unit=other_school), make_teacher()]
    for teacher in teachers:
        services.enrolment_enrol(actor=teacher, course=course)
    # The course has happened: attendance only from its last day.
    today = dt.date.today()
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.CLOSED,
        start_date=today - dt.timedelta(days=2),
        end_date=today - dt.timedelta(days=1),
    )
    course.refresh_from_db()
    course.teachers = teachers
    return course


def download(client, course):
    response = client.get(reverse("courses:participants-xlsx", args=[course.pk]))
    assert response.status_code == 200
    return load_workbook(BytesIO(b"".join(response.streaming_content)))


def every_cell(workbook) -> list[str]:
    return [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]


def as_upload(workbook, name="participants.xlsx") -> SimpleUploadedFile:
    out = BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def post_upload(client, course, file, capture) -> AttendanceUpload:
    with capture(execute=True):
        response = client.post(reverse("courses:upload", args=[course.pk]), {"file": file})
    assert response.status_code == 302, response.content.decode()[:1500]
    return AttendanceUpload.objects.latest("pk")


def test_attack_the_organiser_finds_no_national_id_in_the_list(clerk, course):
    """Issue 16 point 6: a course with another school's teacher; every cell of every sheet read."""
    cells = every_cell(download(signed_in_client(clerk), course))
    ids = [teacher.person.reveal_national_id() for teacher in course.teachers]
    for cell in cells:
        assert not national_id.ANY_ID_RE.search(cell), cell
        assert not any(nid in cell for nid in ids)
    outsider = course.teachers[2].person
    assert outsider.name in cells  # the sign-in sheet needs the full name and the school
    assert course.teachers[2].person.memberships.get().unit.name in cells


def test_list_carries_number_name_school_and_an_empty_hours_column(clerk, course, school):
    sheet = download(signed_in_client(clerk), course).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("報名序號", "姓名", "服務學校", "報名狀態", "報名時間", "研習時數")
    by_number = {e.number: e for e in course.enrolments.select_related("person")}
    assert {row[0] for row in rows[1:]} == set(by_number)
    for row in rows[1:]:
        enrolment = by_number[row[0]]
        assert row[1] == enrolment.person.name and row[5] is None
    assert school.name in [row[2] for row in rows[1:]]


def test_enrolment_numbers_are_random_and_unique(course):
    numbers = list(Enrolment.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) == 4
    assert all(len(n) == 11 and n[5] == "-" for n in numbers)
    # Not a counter: no two numbers of one course share their first five characters by sequence.
    assert len({n[:5] for n in numbers}) > 1


def test_the_downloaded_list_filled_in_uploads_back(clerk, course, django_capture_on_commit_callbacks):
    client = signed_in_client(clerk)
    workbook = download(client, course)
    sheet = workbook.worksheets[0]
    admitted = {
        e.number: e for e in course.enrolments.filter(status=EnrolmentStatus.ADMITTED).order_by("applied_at")
    }
    filled = {}
    for index, row in enumerate(sheet.iter_rows(min_row=2), start=2):
        if row[0].value in admitted and len(filled) < 2:
            sheet.cell(row=index, column=6, value=[6, 3.5][len(filled)])
            filled[row[0].value] = Decimal(["6", "3.5"][len(filled)])
    job = post_upload(client, course, as_upload(workbook), django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.DONE, job.messages
    assert bytes(AttendanceUpload.objects.get(pk=job.pk).content) == b""  # deleted once processed
    hours = dict(
        course.enrolments.filter(status=EnrolmentStatus.ADMITTED).values_list("number", "attended_hours")
    )
    assert hours == {number: filled.get(number, Decimal("0")) for number in admitted}
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING


def test_a_number_of_another_course_refuses_the_whole_file_with_its_row(
    clerk, course, make_course, make_teacher, django_capture_on_commit_callbacks
):
    other = make_course(title="另一門課")
    stranger = services.enrolment_enrol(actor=make_teacher(), course=other)
    own = course.enrolments.filter(status=EnrolmentStatus.ADMITTED).first()
    text = f"報名序號,研習時數\n{own.number},6\n{stranger.number},6\n"
    file = SimpleUploadedFile("a.csv", text.encode("utf-8-sig"))
    job = post_upload(signed_in_client(clerk), course, file, django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.REFUSED
    assert "第 3 列：報名序號不是本課程的報名" in "\n".join(job.messages)
    assert bytes(AttendanceUpload.objects.get(pk=job.pk).content) == b""
    assert not course.enrolments.exclude(attended_hours=None).exists()
    course.refresh_from_db()
    assert course.status == CourseStatus.CLOSED


def test_zh_headers_lowercase_numbers_and_the_old_national_id_column(
    clerk, course, django_capture_on_commit_callbacks
):
    a, b = course.teachers[:2]
    number = course.enrolments.get(person=a.person).number
    nid = b.person.reveal_national_id()
    text = f"報名序號,身分證字號,出席時數\n{number.lower().replace('-', '')},,2\n,{nid},4\n"
    file = SimpleUploadedFile("a.csv", text.encode("utf-8-sig"))
    job = post_upload(signed_in_client(clerk), course, file, django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.DONE, job.messages
    hours = dict(course.enrolments.values_list("person_id", "attended_hours"))
    assert hours[a.person_id] == Decimal("2") and hours[b.person_id] == Decimal("4")


def test_the_old_national_id_column_refuses_people_not_admitted(
    clerk, course, django_capture_on_commit_callbacks
):
    waiting = course.enrolments.get(status=EnrolmentStatus.WAITING).person.reveal_national_id()
    file = SimpleUploadedFile("a.csv", f"national_id,hours\n{waiting},6\n".encode())
    job = post_upload(signed_in_client(clerk), course, file, django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.REFUSED
    text = "\n".join(job.messages)
    assert "第 2 列：此身分證字號不是本課程的錄取學員" in text and waiting not in text


def test_hours_for_a_waiting_person_refuse_the_file(clerk, course, django_capture_on_commit_callbacks):
    number = course.enrolments.get(status=EnrolmentStatus.WAITING).number
    file = SimpleUploadedFile("a.csv", f"報名序號,研習時數\n{number},6\n".encode())
    job = post_upload(signed_in_client(clerk), course, file, django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.REFUSED
    assert "第 2 列：此報名不是本課程的錄取學員" in "\n".join(job.messages)


def test_the_unfilled_list_is_refused(clerk, course, django_capture_on_commit_callbacks):
    client = signed_in_client(clerk)
    job = post_upload(client, course, as_upload(download(client, course)), django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.REFUSED
    assert "檔案沒有填寫任何研習時數" in "\n".join(job.messages)


def test_a_file_without_a_key_column_names_it(clerk, course, django_capture_on_commit_callbacks):
    file = SimpleUploadedFile("a.csv", "姓名,研習時數\n王,6\n".encode())
    job = post_upload(signed_in_client(clerk), course, file, django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.REFUSED
    assert "缺少欄位 報名序號" in "\n".join(job.messages)


def test_upload_page_offers_the_template(clerk, course):
    html = signed_in_client(clerk).get(reverse("courses:upload", args=[course.pk])).content.decode()
    assert reverse("courses:participants-xlsx", args=[course.pk]) in html
    assert "報名序號" in html and "研習時數" in html


def test_another_unit_cannot_download_the_list(course, actors):
    outsider = actors("clerk").outsider
    response = signed_in_client(outsider).get(reverse("courses:participants-xlsx", args=[course.pk]))
    assert response.status_code == 404
