"""Upload limits (issue 16 point 8): 批次上傳 and the attendance upload refuse files past their size
and row limits with a clear zh-Hant message and write nothing; 研習證明查驗 is throttled. Each
test performs the attack and fails if it works."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Person
from core.dataexchange import ImportRefused, Table
from courses import services as course_services
from courses.models import AttendanceUpload, Course, CourseStatus, UploadStatus
from inservice.celery import app as celery_app
from teachers.models import Membership, RosterUpload
from tests.courses.conftest import course_fields
from tests.factories import MembershipFactory, UserFactory, valid_national_id
from tests.helpers import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_tasks():
    """The imports run in-process here (the worker is tested in tests/inservice/test_celery.py)."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


ROSTER_HEADER = "national_id,name,email,unit_code,category,title,subjects,start_date,end_date\n"


def roster_file(unit, count, *, padding=0, name="roster.csv"):
    rows = "".join(
        f"{valid_national_id(9000 + n)},新進{n},,{unit.code},教師,教師,,2024-08-01,\n" for n in range(count)
    )
    return SimpleUploadedFile(name, (ROSTER_HEADER + rows + " " * padding).encode(), content_type="text/csv")


def roster_state():
    return Person.objects.count(), Membership.objects.count()


def post(client, url, data, capture):
    with capture(execute=True):
        return client.post(url, data)


def test_a_roster_file_past_the_size_limit_is_refused_and_nothing_stored(
    chief, school, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    settings.ROSTER_UPLOAD_DIR = str(tmp_path)
    before = roster_state()
    file = roster_file(school, 2, padding=settings.UPLOAD_MAX_BYTES)
    response = post(
        signed_in_client(chief),
        reverse("teachers:upload"),
        {"file": file},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    assert "檔案超過 1 MB 的上限" in response.content.decode()
    assert not RosterUpload.objects.exists() and list(tmp_path.iterdir()) == []
    assert roster_state() == before


def test_a_roster_file_past_the_row_limit_is_refused_whole(
    chief, school, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_MAX_ROWS = 5
    before = roster_state()
    post(
        signed_in_client(chief),
        reverse("teachers:upload"),
        {"file": roster_file(school, 6)},
        django_capture_on_commit_callbacks,
    )
    upload = RosterUpload.objects.get()
    assert upload.status == UploadStatus.REFUSED
    assert any("超過 5 列資料的上限" in line for line in upload.messages), upload.messages
    assert roster_state() == before
    # At the limit the file goes in.
    post(
        signed_in_client(chief),
        reverse("teachers:upload"),
        {"file": roster_file(school, 5)},
        django_capture_on_commit_callbacks,
    )
    assert RosterUpload.objects.latest("pk").status == UploadStatus.DONE


def test_the_row_limit_stops_reading_at_once(tmp_path, monkeypatch):
    # A big file is not read to its end: the refusal comes at the first row past the limit.
    path = tmp_path / "big.csv"
    path.write_text("hours\n" + "1\n" * 100_000)
    read = []
    all_rows = Table._all_rows

    def counted(self):
        for row in all_rows(self):
            read.append(row)
            yield row

    monkeypatch.setattr(Table, "_all_rows", counted)
    with pytest.raises(ImportRefused) as refused:
        list(Table(path, ("hours",), max_rows=100).rows())
    assert any("100 列資料的上限" in line for line in refused.value.errors.lines())
    assert len(read) == 101


@pytest.fixture
def over_course(clerk, school):
    course = course_services.course_register(actor=clerk, fields=course_fields(capacity=3))
    course_services.course_open(actor=clerk, course=course)
    teacher = UserFactory()
    MembershipFactory(person=teacher.person, unit=school)
    course_services.enrolment_enrol(actor=teacher, course=course)
    today = dt.date.today()
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.CLOSED,
        start_date=today - dt.timedelta(days=2),
        end_date=today - dt.timedelta(days=1),
    )
    course.refresh_from_db()
    return course


def attendance_csv(rows, padding=0):
    text = "報名序號,研習時數\n" + "".join(f"{number},{hours}\n" for number, hours in rows) + " " * padding
    return SimpleUploadedFile("attendance.csv", text.encode("utf-8-sig"), content_type="text/csv")


def test_an_attendance_file_past_the_size_limit_is_refused(
    clerk, over_course, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    number = over_course.enrolments.get().number
    file = attendance_csv([(number, "1")], padding=settings.UPLOAD_MAX_BYTES)
    url = reverse("courses:upload", args=[over_course.pk])
    response = post(signed_in_client(clerk), url, {"file": file}, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "檔案超過 1 MB 的上限" in response.content.decode()
    assert not AttendanceUpload.objects.exists()
    over_course.refresh_from_db()
    assert over_course.status == CourseStatus.CLOSED


def test_the_services_refuse_a_file_past_the_size_limit_whoever_calls(
    clerk, chief, school, over_course, settings, tmp_path
):
    """Not only the forms: attendance_upload_create and roster_upload_submit check the size too."""
    from teachers import batch
    from teachers.services import RosterError

    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    settings.ROSTER_UPLOAD_DIR = str(tmp_path)
    number = over_course.enrolments.get().number
    big = attendance_csv([(number, "1")], padding=settings.UPLOAD_MAX_BYTES).read()
    with pytest.raises(course_services.CourseError) as refused:
        course_services.attendance_upload_create(
            actor=clerk, course=over_course, filename="attendance.csv", content=big
        )
    assert refused.value.code == "file_too_big" and "檔案超過 1 MB 的上限" in str(refused.value.message)
    assert not AttendanceUpload.objects.exists()
    with pytest.raises(RosterError) as refused:
        batch.roster_upload_submit(
            actor=chief, unit=school, uploaded=roster_file(school, 1, padding=settings.UPLOAD_MAX_BYTES)
        )
    assert refused.value.code == "file_too_big"
    assert not RosterUpload.objects.exists() and list(tmp_path.iterdir()) == []


def test_an_attendance_file_past_the_row_limit_is_refused_whole(
    clerk, over_course, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_MAX_ROWS = 3
    number = over_course.enrolments.get().number
    rows = [(number, "1")] + [("", "")] * 0 + [(number, "1")] * 3  # 4 rows
    url = reverse("courses:upload", args=[over_course.pk])
    post(signed_in_client(clerk), url, {"file": attendance_csv(rows)}, django_capture_on_commit_callbacks)
    job = AttendanceUpload.objects.get()
    assert job.status == UploadStatus.REFUSED
    assert any("超過 3 列資料的上限" in line for line in job.messages), job.messages
    over_course.refresh_from_db()
    assert over_course.status == CourseStatus.CLOSED
    assert over_course.enrolments.get().attended_hours in (None, 0)


# Refused while the body is read (core.uploads) ------------------------------------------------------


@pytest.fixture
def body_reads(monkeypatch):
    """How many bytes of the request body the server read (the test client's wsgi.input)."""
    from django.test import client as test_client

    counted = {"bytes": 0}
    original = test_client.FakePayload.read

    def read(self, size=-1, /):
        content = original(self, size)
        counted["bytes"] += len(content)
        return content

    monkeypatch.setattr(test_client.FakePayload, "read", read)
    return counted


CHUNK = 64 * 1024  # Django's upload chunk size


@pytest.mark.parametrize("target", ["roster", "attendance"])
def test_an_upload_over_the_limit_is_refused_from_its_content_length_unread(
    target,
    chief,
    clerk,
    school,
    over_course,
    settings,
    tmp_path,
    body_reads,
    django_capture_on_commit_callbacks,
):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    settings.ROSTER_UPLOAD_DIR = str(tmp_path)
    if target == "roster":
        user, url, file = chief, reverse("teachers:upload"), roster_file(school, 2, padding=3 * 1024 * 1024)
    else:
        number = over_course.enrolments.get().number
        user, url = clerk, reverse("courses:upload", args=[over_course.pk])
        file = attendance_csv([(number, "1")], padding=3 * 1024 * 1024)
    before = roster_state()
    response = post(signed_in_client(user), url, {"file": file}, django_capture_on_commit_callbacks)
    # The same answer as before: the page again, with the message; nothing stored or queued.
    assert response.status_code == 200
    assert "檔案超過 1 MB 的上限，請分成數個檔案上傳；未寫入任何資料。" in response.content.decode()
    assert not RosterUpload.objects.exists() and not AttendanceUpload.objects.exists()
    assert list(tmp_path.iterdir()) == [] and roster_state() == before
    # Of the 3 MB body only the first chunk was read.
    assert body_reads["bytes"] <= 2 * CHUNK


def test_the_bounded_upload_views_still_check_the_csrf_token(chief, clerk, over_course):
    for user, url in (
        (chief, reverse("teachers:upload")),
        (clerk, reverse("courses:upload", args=[over_course.pk])),
    ):
        client = signed_in_client(user)
        client.handler.enforce_csrf_checks = True
        response = client.post(url, {"file": attendance_csv([])})
        assert response.status_code == 403
    assert not RosterUpload.objects.exists() and not AttendanceUpload.objects.exists()


def test_without_a_true_content_length_the_handler_stops_at_the_limit(settings):
    """A body whose Content-Length understates it: the handler counts and stops past the limit."""
    import io

    from django.http.multipartparser import MultiPartParser

    from core.uploads import RefusedUpload, UploadLimitHandler

    settings.UPLOAD_MAX_BYTES = limit = 1024 * 1024
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"x" * (5 * limit)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size=-1, /):
            content = super().read(size)
            Counting.consumed += len(content)
            return content

    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": "1000"}
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    handler = UploadLimitHandler()
    _post, files = MultiPartParser(meta, Counting(body), [handler, TemporaryFileUploadHandler()]).parse()
    assert handler.refused is not None
    field, refused = handler.refused
    assert field == "file" and isinstance(refused, RefusedUpload) and refused.name == "big.csv"
    assert refused.size > limit
    assert limit < handler.received <= limit + CHUNK
    assert Counting.consumed <= limit + 2 * CHUNK  # not the 5 MB
    assert "file" not in files


def test_certificate_verification_is_throttled_per_client(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "certificate_verify": "5/m/ip"}
    url = reverse("courses:certificate-verify")
    guesser = Client(REMOTE_ADDR="10.9.0.1")
    statuses = [guesser.post(url, {"code": f"ABCD-EFGH-JK{n:02d}"}).status_code for n in range(7)]
    assert statuses == [200] * 5 + [429, 429]
    assert "查驗結果" not in guesser.post(url, {"code": "ABCD-EFGH-JKMN"}).content.decode()
    assert Client(REMOTE_ADDR="10.9.0.2").post(url, {"code": "ABCD-EFGH-JKMN"}).status_code == 200


def test_certificate_verification_has_a_limit_by_default(settings):
    assert "certificate_verify" in settings.ACCOUNT_RATE_LIMITS


# Long imports on their own queue --------------------------------------------------------------------

LONG_IMPORTS = [
    "teachers.tasks.import_roster_upload",
    "teachers.tasks.sync_teacher_feed",
    "courses.tasks.process_attendance_upload",
]


@pytest.mark.parametrize("task", LONG_IMPORTS)
def test_long_imports_go_to_their_own_queue(task, settings):
    route = celery_app.amqp.router.route({}, task)
    assert route["queue"].name == settings.CELERY_IMPORTS_QUEUE != celery_app.conf.task_default_queue


def test_mail_stays_on_the_default_queue():
    route = celery_app.amqp.router.route({}, "teachers.tasks.send_sso_binding_mail")
    assert route["queue"].name == celery_app.conf.task_default_queue


def test_the_workers_consume_the_imports_queue(settings):
    root = settings.BASE_DIR
    makefile = (root / "Makefile").read_text()
    assert "worker --queues=celery,imports" in makefile
    compose = (root / "docker-compose.yml").read_text()
    assert '"--queues=imports"' in compose and '"--queues=celery"' in compose
