"""Every course refusal names its rule (issue 17 point 2): code, kind, HTTP status and zh-Hant wording.

Not visible → 404, forbidden → 403, wrong state or closed window → 409, input the service refuses → 400;
each refusal changes nothing.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.refusals import Kind
from courses import services
from courses.choices import Admission
from courses.models import (
    AttendanceUpload,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    HoursCorrection,
    IssuedHours,
    UploadStatus,
)
from tests.factories import BusinessAccountFactory
from tests.helpers import refusal_of, signed_in_client

pytestmark = pytest.mark.django_db


def test_a_course_of_another_unit_is_not_visible_to_a_manager(make_course, other_school):
    course = make_course(status=CourseStatus.REGISTERING)
    outsider = BusinessAccountFactory(unit=other_school, type="clerk").user
    refused = refusal_of(lambda: services.course_open(actor=outsider, course=course))
    assert (refused.code, refused.kind, refused.status) == ("not_found", Kind.NOT_VISIBLE, 404)
    assert str(refused.message) == "找不到此研習課程。"
    response = signed_in_client(outsider).post(reverse("courses:transition", args=[course.pk, "open"]))
    assert response.status_code == 404
    course.refresh_from_db()
    assert course.status == CourseStatus.REGISTERING and course.code is None


def test_a_teacher_may_not_manage_a_course(make_course, make_teacher):
    course = make_course(status=CourseStatus.REGISTERING)
    refused = refusal_of(lambda: services.course_open(actor=make_teacher(), course=course))
    assert (refused.code, refused.kind, refused.status) == ("forbidden", Kind.FORBIDDEN, 403)
    assert str(refused.message) == "您沒有執行此課程作業的權限。"
    course.refresh_from_db()
    assert course.status == CourseStatus.REGISTERING


def test_a_business_account_may_not_enrol(make_course, clerk):
    course = make_course()
    refused = refusal_of(lambda: services.enrolment_enrol(actor=clerk, course=course))
    assert (refused.code, refused.status) == ("not_a_teacher", 403)
    assert str(refused.message) == "只有教師個人帳號可以報名研習課程。"
    assert not Enrolment.objects.exists()


def test_a_teacher_outside_the_audience_is_forbidden(make_course, make_teacher, far_school):
    course = make_course()
    course.audience_authorities.set([course.authority])
    refused = refusal_of(lambda: services.enrolment_enrol(actor=make_teacher(far_school), course=course))
    assert (refused.code, refused.status) == ("not_in_audience", 403)
    assert str(refused.message) == "此課程的研習對象不包含您目前服務的單位。"


def test_a_closed_enrolment_window_is_a_conflict(make_course, make_teacher):
    course = make_course(enrol_opens_at=timezone.now() + dt.timedelta(hours=1))
    refused = refusal_of(lambda: services.enrolment_enrol(actor=make_teacher(), course=course))
    assert (refused.code, refused.kind, refused.status) == ("enrolment_closed", Kind.CONFLICT, 409)
    assert str(refused.message) == "目前不在此課程的報名時間內。"
    assert not Enrolment.objects.exists()


def test_enrolling_twice_is_a_conflict(make_course, make_teacher):
    course, teacher = make_course(), make_teacher()
    services.enrolment_enrol(actor=teacher, course=course)
    refused = refusal_of(lambda: services.enrolment_enrol(actor=teacher, course=course))
    assert (refused.code, refused.status) == ("already_enrolled", 409)
    assert str(refused.message) == "您已報名此課程。"


@pytest.fixture
def review_course(make_course, make_teacher):
    course = make_course(admission=Admission.REVIEW, capacity=1)
    for _ in range(2):
        services.enrolment_enrol(actor=make_teacher(), course=course)
    return course


def test_admitting_more_than_the_seats_is_invalid_input_400(clerk, review_course):
    applicants = [e.pk for e in services.admission_queue(review_course)]
    response = signed_in_client(clerk).post(
        reverse("courses:admit", args=[review_course.pk]), {"enrolments": applicants}
    )
    assert response.status_code == 400
    assert "錄取人數超過名額（尚餘 1 名）。" in response.content.decode()
    refused = refusal_of(
        lambda: services.course_announce_admission(
            actor=clerk, course=review_course, enrolment_ids=applicants
        )
    )
    assert (refused.code, refused.kind) == ("too_many_admitted", Kind.INVALID)
    assert not review_course.enrolments.filter(status=EnrolmentStatus.ADMITTED).exists()


def test_announcing_twice_is_a_conflict(clerk, review_course):
    first = services.admission_queue(review_course)[0]
    services.course_announce_admission(actor=clerk, course=review_course, enrolment_ids=[first.pk])
    refused = refusal_of(
        lambda: services.course_announce_admission(actor=clerk, course=review_course, enrolment_ids=[])
    )
    assert (refused.code, refused.status) == ("already_announced", 409)
    assert str(refused.message) == "錄取名單已公告；請從候補名單依序錄取。"


@pytest.fixture
def confirmed(make_course, make_teacher):
    course = make_course()
    teacher = make_teacher()
    enrolment = services.enrolment_enrol(actor=teacher, course=course)
    day = timezone.localdate() - dt.timedelta(days=1)
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.CONFIRMED, start_date=day, end_date=day)
    Enrolment.objects.filter(pk=enrolment.pk).update(attended_hours=Decimal("6"))
    IssuedHours.objects.create(person=teacher.person, course=course, date=day, hours=6, source="course")
    course.refresh_from_db()
    return course, enrolment


def test_a_correction_to_the_same_hours_is_invalid_400(clerk, confirmed):
    course, enrolment = confirmed
    response = signed_in_client(clerk).post(
        reverse("courses:correction-new", args=[course.pk, enrolment.pk]),
        {"hours_after": "6", "reason": "誤植"},
    )
    assert response.status_code == 400
    assert "更正後時數與目前時數相同。" in response.content.decode()
    assert not HoursCorrection.objects.exists()


def test_a_second_pending_correction_is_a_conflict(clerk, confirmed):
    course, enrolment = confirmed

    def ask():
        return services.correction_request(
            actor=clerk, course=course, enrolment=enrolment, hours_after=Decimal("3"), reason="早退"
        )

    ask()
    refused = refusal_of(ask)
    assert (refused.code, refused.status) == ("correction_pending", 409)
    assert str(refused.message) == "此人員已有一筆待核定的更正。"
    assert HoursCorrection.objects.count() == 1


def test_a_correction_of_another_authority_is_not_visible_to_a_centre(clerk, confirmed, other_centre):
    course, enrolment = confirmed
    correction = services.correction_request(
        actor=clerk, course=course, enrolment=enrolment, hours_after=Decimal("3"), reason="早退"
    )
    refused = refusal_of(
        lambda: services.correction_decide(actor=other_centre, correction=correction, approve=True)
    )
    assert (refused.code, refused.status) == ("not_found", 404)
    assert str(refused.message) == "找不到此研習時數更正申請。"
    response = signed_in_client(other_centre).post(
        reverse("courses:correction-decide", args=[correction.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404
    correction.refresh_from_db()
    assert correction.status == "pending"


def test_every_course_refusal_names_its_rule():
    """CourseError takes no default code: a raise site that names none fails at once."""
    with pytest.raises(TypeError):
        services.CourseError("x")


def test_a_forbidden_decision_answers_403_not_a_redirect(clerk, confirmed, centre, monkeypatch):
    """correction_decide shows a rule of the data as a message; a refusal of who the actor is is 403."""
    course, enrolment = confirmed
    correction = services.correction_request(
        actor=clerk, course=course, enrolment=enrolment, hours_after=Decimal("3"), reason="早退"
    )

    def refuse(**kwargs):
        raise services.CourseError(services.MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)

    monkeypatch.setattr(services, "correction_decide", refuse)
    response = signed_in_client(centre).post(
        reverse("courses:correction-decide", args=[correction.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    correction.refresh_from_db()
    assert correction.status == "pending"


def test_a_forbidden_retry_answers_403_not_a_redirect(clerk, confirmed, monkeypatch):
    """重新處理 shows a rule of the upload as a message; a refusal of who the actor is is 403."""
    course, _enrolment = confirmed
    job = AttendanceUpload.objects.create(
        course=course, uploaded_by=clerk, filename="a.csv", content=b"", status=UploadStatus.FAILED
    )

    def refuse(**kwargs):
        raise services.CourseError(services.MSG_FORBIDDEN, code="forbidden", kind=Kind.FORBIDDEN)

    monkeypatch.setattr(services, "attendance_upload_retry", refuse)
    response = signed_in_client(clerk).post(reverse("courses:upload-retry", args=[course.pk, job.pk]))
    assert response.status_code == 403
