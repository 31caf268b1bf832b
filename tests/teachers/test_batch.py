"""Batch work for a school (issue 10 point 8): roster upload through the engine, several accounts enabled."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Person
from teachers import batch
from teachers.models import (
    AccountStatus,
    Membership,
    RosterUpload,
    TeacherAccount,
    TeacherApplication,
    UploadStatus,
)
from tests.factories import valid_national_id
from tests.helpers import signed_in_client
from tests.teachers.conftest import member

HEADER = [
    "national_id",
    "name",
    "email",
    "unit_code",
    "category",
    "title",
    "subjects",
    "start_date",
    "end_date",
]


def roster_csv(rows, name="roster.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def newcomer(n, unit, name=None):
    return [valid_national_id(n), name or f"新進{n}", "", unit.code, "教師", "教師", "", "2024-08-01", ""]


@pytest.fixture
def post_upload(django_capture_on_commit_callbacks):
    """The upload queues its task on commit; run the callbacks as a real commit would."""

    def post(client, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("teachers:upload"), data)

    return post


def state():
    return (
        sorted(Person.objects.values_list("pk", "name")),
        sorted(Membership.objects.values_list("person_id", "unit_id", "start_date", "end_date")),
    )


def test_a_school_uploads_its_roster_and_the_task_imports_it(chief, school, post_upload):
    client = signed_in_client(chief)
    file = roster_csv([newcomer(8001, school), newcomer(8002, school)])
    response = post_upload(client, {"file": file})
    upload = RosterUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse("teachers:upload-status", args=[upload.pk])
    assert upload.status == UploadStatus.DONE  # eager task on SQLite and in these tests
    assert "新增人員 2" in upload.summary
    assert Membership.objects.filter(unit=school, person__name__in=["新進8001", "新進8002"]).count() == 2
    html = client.get(response.url).content.decode()
    assert "匯入完成" in html and "新增人員 2" in html
    assert valid_national_id(8001) not in html


def test_the_stored_upload_file_is_removed_after_the_import(chief, school, settings, tmp_path, post_upload):
    settings.ROSTER_UPLOAD_DIR = str(tmp_path)
    post_upload(signed_in_client(chief), {"file": roster_csv([newcomer(8003, school)])})
    assert list(tmp_path.iterdir()) == []
    assert RosterUpload.objects.get().stored_path == ""


def test_a_row_of_another_unit_refuses_the_whole_file(chief, school, other_school, post_upload):
    before = state()
    rows = [newcomer(8011, school), newcomer(8012, other_school), newcomer(8013, school)]
    client = signed_in_client(chief)
    response = post_upload(client, {"file": roster_csv(rows)})
    upload = RosterUpload.objects.get()
    assert upload.status == UploadStatus.REFUSED
    assert len(upload.messages) == 1 and "第 3 列" in upload.messages[0] and "本單位" in upload.messages[0]
    assert state() == before
    html = client.get(response.url).content.decode()
    assert "未寫入任何資料" in html and "本單位" in html


def test_an_engine_row_error_refuses_the_whole_file_with_row_messages(chief, school, post_upload):
    before = state()
    bad = newcomer(8021, school)
    bad[0] = "A12345"
    post_upload(signed_in_client(chief), {"file": roster_csv([newcomer(8022, school), bad])})
    upload = RosterUpload.objects.get()
    assert upload.status == UploadStatus.REFUSED
    assert any("第 3 列" in line for line in upload.messages)
    assert state() == before


def test_only_xlsx_or_csv_is_accepted(chief):
    response = signed_in_client(chief).post(
        reverse("teachers:upload"), {"file": SimpleUploadedFile("roster.txt", b"x")}
    )
    assert response.status_code == 200
    assert ".xlsx 或 .csv" in response.content.decode()
    assert not RosterUpload.objects.exists()


def test_an_upload_is_seen_only_by_its_own_school(chief, actors, school, teacher, clerk, post_upload):
    other_chief = actors("chief").outsider
    post_upload(signed_in_client(chief), {"file": roster_csv([newcomer(8031, school)])})
    url = reverse("teachers:upload-status", args=[RosterUpload.objects.get().pk])
    assert signed_in_client(other_chief).get(url).status_code == 404
    for user in (teacher, clerk):
        assert signed_in_client(user).get(url).status_code == 403
        assert post_upload(signed_in_client(user), {}).status_code == 403


def test_a_clerk_cannot_upload(clerk, school, post_upload):
    response = post_upload(signed_in_client(clerk), {"file": roster_csv([newcomer(8041, school)])})
    assert response.status_code == 403
    assert not RosterUpload.objects.exists()


# 啟用教師帳號, several at once ------------------------------------------------------------------------


def applied(unit, n):
    """A teacher who applied with the roster's own (trusted) address: bulk enabling may take it."""
    membership = member(unit, name=f"申請人{n}", email=f"applicant{n}@example.org")
    TeacherApplication.objects.create(
        person=membership.person, username=f"applicant{n}", email=f"applicant{n}@example.org", password="x"
    )
    return membership


def test_several_teacher_accounts_are_enabled_at_once(chief, school):
    first, second = applied(school, 1), applied(school, 2)
    never_applied = member(school, name="沒申請")
    client = signed_in_client(chief)
    assert f'name="members" value="{first.pk}"' in client.get(reverse("teachers:roster")).content.decode()
    response = client.post(
        reverse("teachers:enable-many"), {"members": [first.pk, second.pk, never_applied.pk]}, follow=True
    )
    html = response.content.decode()
    assert "已啟用 2 位教師" in html and "未啟用" in html
    assert set(TeacherAccount.objects.values_list("person_id", "status")) == {
        (first.person_id, AccountStatus.ACTIVE),
        (second.person_id, AccountStatus.ACTIVE),
    }


def test_enabling_ignores_teachers_of_another_school(chief, school, other_school):
    own, foreign = applied(school, 11), applied(other_school, 12)
    enabled, refused = batch.teacher_accounts_enable(
        actor=chief, unit=school, membership_ids=[str(own.pk), str(foreign.pk)]
    )
    assert len(enabled) == 1 and refused == []
    assert not TeacherAccount.objects.filter(person=foreign.person).exists()


def test_another_schools_manager_enables_nothing_here(actors, school):
    other_chief = actors("chief").outsider
    target = applied(school, 21)
    response = signed_in_client(other_chief).post(reverse("teachers:enable-many"), {"members": [target.pk]})
    assert response.status_code == 302
    assert not TeacherAccount.objects.exists()


def test_a_teacher_cannot_enable_accounts(teacher, school):
    target = applied(school, 31)
    assert (
        signed_in_client(teacher).post(reverse("teachers:enable-many"), {"members": [target.pk]}).status_code
        == 403
    )
    assert not TeacherAccount.objects.exists()
