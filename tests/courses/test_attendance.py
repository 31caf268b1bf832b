"""資料上傳, 名單確認通過 and 核發研習時數, 更正 (issue 11 point 4)."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from courses import services
from courses.models import (
    AttendanceUpload,
    CorrectionStatus,
    Course,
    CourseStatus,
    EnrolmentStatus,
    HoursSource,
    IssuedHours,
    UploadStatus,
)
from tests.factories import valid_national_id
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_course(make_course, make_teacher):
    course = make_course(capacity=3)
    teachers = [make_teacher() for _ in range(3)]
    for teacher in teachers:
        services.enrolment_enrol(actor=teacher, course=course)
    # The course has happened: attendance and 名單確認通過 only from its last day (tests/courses/test_course_over.py).
    today = dt.date.today()
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.CLOSED,
        start_date=today - dt.timedelta(days=2),
        end_date=today - dt.timedelta(days=1),
    )
    course.refresh_from_db()
    course.teachers = teachers
    return course


def nid(user) -> str:
    return user.person.reveal_national_id()


def csv_file(rows, name="attendance.csv"):
    text = "national_id,hours\n" + "".join(f"{a},{b}\n" for a, b in rows)
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def upload(client, course, file, capture):
    with capture(execute=True):
        response = client.post(reverse("courses:upload", args=[course.pk]), {"file": file})
    assert response.status_code == 302, response.content.decode()[:1500]
    return AttendanceUpload.objects.latest("pk")


def test_good_csv_sets_attendance_and_moves_to_pending(
    clerk, closed_course, django_capture_on_commit_callbacks
):
    a, b, _c = closed_course.teachers
    job = upload(
        signed_in_client(clerk),
        closed_course,
        csv_file([(nid(a), "6"), (nid(b), "3.5")]),
        django_capture_on_commit_callbacks,
    )
    assert job.status == UploadStatus.DONE and job.progress == 100
    closed_course.refresh_from_db()
    assert closed_course.status == CourseStatus.PENDING
    hours = dict(closed_course.enrolments.values_list("person_id", "attended_hours"))
    assert hours == {a.person_id: Decimal("6"), b.person_id: Decimal("3.5"), _c.person_id: Decimal("0")}
    page = signed_in_client(clerk).get(reverse("courses:upload-status", args=[closed_course.pk, job.pk]))
    assert "完成（100%）" in page.content.decode()


def test_good_xlsx_is_read_too(clerk, closed_course, django_capture_on_commit_callbacks):
    workbook = Workbook()
    workbook.active.append(["national_id", "hours"])
    workbook.active.append([nid(closed_course.teachers[0]), 6])
    out = BytesIO()
    workbook.save(out)
    file = SimpleUploadedFile("a.xlsx", out.getvalue())
    job = upload(signed_in_client(clerk), closed_course, file, django_capture_on_commit_callbacks)
    assert job.status == UploadStatus.DONE


def test_file_with_any_bad_row_is_refused_whole_without_echoing_ids(
    clerk, closed_course, django_capture_on_commit_callbacks
):
    a, b, _c = closed_course.teachers
    stranger = valid_national_id(9_999_999)
    job = upload(
        signed_in_client(clerk),
        closed_course,
        csv_file([(nid(a), "6"), (nid(b), "7"), (stranger, "1"), (nid(a), "2"), ("A123", "1")]),
        django_capture_on_commit_callbacks,
    )
    assert job.status == UploadStatus.REFUSED
    text = "\n".join(job.messages)
    assert "第 3 列：研習時數須為 0 至課程研習時數之間" in text
    assert "第 4 列：此身分證字號不是本課程的錄取學員" in text
    assert "第 5 列：同一人員在檔案中出現多次" in text
    assert "第 6 列" in text
    assert nid(a) not in text and stranger not in text
    page = signed_in_client(clerk).get(reverse("courses:upload-status", args=[closed_course.pk, job.pk]))
    assert nid(a) not in page.content.decode()
    closed_course.refresh_from_db()
    assert closed_course.status == CourseStatus.CLOSED
    assert not closed_course.enrolments.exclude(attended_hours=None).exists()


def test_upload_refused_while_enrolment_is_open(clerk, make_course):
    course = make_course()
    response = signed_in_client(clerk).post(
        reverse("courses:upload", args=[course.pk]), {"file": csv_file([])}
    )
    assert response.status_code == 409
    assert not AttendanceUpload.objects.exists()


def test_upload_of_another_units_course_is_404(closed_course, actors):
    outsider = actors("clerk").outsider
    response = signed_in_client(outsider).post(
        reverse("courses:upload", args=[closed_course.pk]), {"file": csv_file([])}
    )
    assert response.status_code == 404
    assert not AttendanceUpload.objects.exists()


def pending(course, hours):
    for teacher, value in zip(course.teachers, hours, strict=True):
        course.enrolments.filter(person=teacher.person).update(attended_hours=value)
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.PENDING)
    course.refresh_from_db()
    return course


def test_confirm_issues_hours_dated_the_last_day_and_locks_the_list(clerk, closed_course):
    course = pending(closed_course, ["6", "3.5", "0"])
    response = signed_in_client(clerk).post(reverse("courses:transition", args=[course.pk, "confirm"]))
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.CONFIRMED
    records = IssuedHours.objects.filter(course=course)
    assert {(r.person_id, r.hours, r.date, r.source) for r in records} == {
        (course.teachers[0].person_id, Decimal("6"), course.end_date, HoursSource.COURSE),
        (course.teachers[1].person_id, Decimal("3.5"), course.end_date, HoursSource.COURSE),
    }
    # Locked: no second confirmation, no new upload.
    assert (
        signed_in_client(clerk).post(reverse("courses:transition", args=[course.pk, "confirm"])).status_code
        == 409
    )
    assert (
        signed_in_client(clerk)
        .post(reverse("courses:upload", args=[course.pk]), {"file": csv_file([])})
        .status_code
        == 409
    )
    assert IssuedHours.objects.count() == 2


def test_confirm_by_another_unit_changes_nothing(closed_course, actors):
    course = pending(closed_course, ["6", "6", "6"])
    outsider = actors("chief").outsider
    with pytest.raises(services.CourseError):
        services.course_confirm(actor=outsider, course=course)
    course.refresh_from_db()
    assert course.status == CourseStatus.PENDING and not IssuedHours.objects.exists()


def test_participant_list_masks_names_on_screen_and_gives_full_names_in_xlsx(clerk, closed_course):
    client = signed_in_client(clerk)
    person = closed_course.teachers[0].person
    html = client.get(reverse("courses:manage-detail", args=[closed_course.pk])).content.decode()
    assert person.masked_name in html and person.name not in html
    response = client.get(reverse("courses:participants-xlsx", args=[closed_course.pk]))
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert person.name in names and len(names) == 3


@pytest.fixture
def confirmed(clerk, closed_course):
    course = pending(closed_course, ["6", "3", "0"])
    services.course_confirm(actor=clerk, course=course)
    course.refresh_from_db()
    return course


def test_correction_is_recorded_and_applies_only_once_the_authority_approves(
    clerk, centre, confirmed, mailoutbox, django_capture_on_commit_callbacks
):
    enrolment = confirmed.enrolments.get(person=confirmed.teachers[1].person)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        correction = services.correction_request(
            actor=clerk, course=confirmed, enrolment=enrolment, hours_after=Decimal("6"), reason="簽到表漏登"
        )
    assert [m.to for m in mailoutbox] == [[centre.email]]
    assert "/centre/hours-corrections/" in mailoutbox[0].body
    assert (correction.hours_before, correction.hours_after, correction.requested_by) == (
        Decimal("3"),
        Decimal("6"),
        clerk,
    )
    record = IssuedHours.objects.get(course=confirmed, person=enrolment.person)
    assert record.hours == Decimal("3")
    client = signed_in_client(centre)
    assert "簽到表漏登" in client.get(reverse("courses:corrections")).content.decode()
    client.post(reverse("courses:correction-decide", args=[correction.pk]), {"decision": "approve"})
    record.refresh_from_db()
    correction.refresh_from_db()
    assert record.hours == Decimal("6")
    assert correction.status == CorrectionStatus.APPROVED and correction.decided_by == centre


def test_correction_of_a_participant_with_no_hours_creates_the_record(clerk, operator, confirmed):
    enrolment = confirmed.enrolments.get(person=confirmed.teachers[2].person)
    correction = services.correction_request(
        actor=clerk, course=confirmed, enrolment=enrolment, hours_after=Decimal("2"), reason="補登"
    )
    services.correction_decide(actor=operator, correction=correction, approve=True)
    assert IssuedHours.objects.get(course=confirmed, person=enrolment.person).hours == Decimal("2")


def test_another_authority_or_the_unit_itself_cannot_approve(clerk, confirmed, actors):
    other_centre = actors("centre").far_outsider
    enrolment = confirmed.enrolments.get(person=confirmed.teachers[1].person)
    correction = services.correction_request(
        actor=clerk, course=confirmed, enrolment=enrolment, hours_after=Decimal("1"), reason="誤植"
    )
    for actor in (other_centre, clerk):
        with pytest.raises(services.CourseError):
            services.correction_decide(actor=actor, correction=correction, approve=True)
    response = signed_in_client(other_centre).post(
        reverse("courses:correction-decide", args=[correction.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404
    assert IssuedHours.objects.get(course=confirmed, person=enrolment.person).hours == Decimal("3")


def test_rejected_correction_changes_nothing(clerk, centre, confirmed):
    enrolment = confirmed.enrolments.get(person=confirmed.teachers[0].person)
    correction = services.correction_request(
        actor=clerk, course=confirmed, enrolment=enrolment, hours_after=Decimal("0"), reason="未出席"
    )
    services.correction_decide(actor=centre, correction=correction, approve=False)
    assert IssuedHours.objects.get(course=confirmed, person=enrolment.person).hours == Decimal("6")


def test_correction_needs_a_confirmed_course(clerk, closed_course):
    enrolment = closed_course.enrolments.first()
    with pytest.raises(services.CourseError):
        services.correction_request(
            actor=clerk, course=closed_course, enrolment=enrolment, hours_after=Decimal("1"), reason="x"
        )
    assert enrolment.status == EnrolmentStatus.ADMITTED


def test_confirm_300_participants_within_a_transaction(clerk, make_course, school):
    """The hours of a 300-person course are issued together, or not at all."""
    from courses.models import Enrolment
    from tests.factories import PersonFactory

    course = make_course(capacity=300)
    people = [PersonFactory() for _ in range(300)]
    from django.utils import timezone

    Enrolment.objects.bulk_create(
        Enrolment(
            course=course,
            person=p,
            status=EnrolmentStatus.ADMITTED,
            applied_at=timezone.now(),
            attended_hours=6,
        )
        for p in people
    )
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.PENDING, start_date=dt.date.today(), end_date=dt.date.today()
    )
    course.refresh_from_db()
    assert services.course_confirm(actor=clerk, course=course) == 300
    assert IssuedHours.objects.filter(course=course, date=course.end_date).count() == 300


def test_correction_screen_records_the_request_and_refuses_another_unit(clerk, confirmed, actors):
    from courses.models import HoursCorrection

    enrolment = confirmed.enrolments.get(person=confirmed.teachers[0].person)
    url = reverse("courses:correction-new", args=[confirmed.pk, enrolment.pk])
    outsider = actors("clerk").outsider
    assert signed_in_client(outsider).post(url, {"hours_after": "5", "reason": "x"}).status_code == 404
    assert not HoursCorrection.objects.exists()
    response = signed_in_client(clerk).post(url, {"hours_after": "5", "reason": "提早離席"})
    assert response.status_code == 302
    correction = HoursCorrection.objects.get()
    assert (correction.hours_before, correction.hours_after, correction.reason) == (
        Decimal("6"),
        Decimal("5"),
        "提早離席",
    )
    assert IssuedHours.objects.get(course=confirmed, person=enrolment.person).hours == Decimal("6")
