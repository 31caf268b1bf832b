from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts import permissions
from accounts.models import Person, User
from courses import certificates, record
from courses.choices import Admission
from courses.models import Course, CourseStatus, EnrolmentStatus, IssuedHours
from inservice.demo import APPLY_DEMO, DEMO_CERTIFICATE_CODE, DEMO_PASSWORD, demo_national_id
from teachers.models import Membership

ROLES = {
    "teacher1": permissions.Role.TEACHER,
    "chief1": permissions.Role.CHIEF,
    "contact1": permissions.Role.CONTACT,
    "clerk1": permissions.Role.CLERK,
    "region1": permissions.Role.CENTRE,
    "operator1": permissions.Role.OPERATOR,
}


@pytest.mark.django_db
def test_seed_demo_builds_one_account_per_role_and_is_idempotent():
    call_command("seed_demo")
    counts = (User.objects.count(), Person.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Person.objects.count(), Membership.objects.count()) == counts
    users = {username: User.objects.get(username=username) for username in ROLES}
    assert all(user.check_password(DEMO_PASSWORD) for user in users.values())
    assert {username: permissions.role_of(user) for username, user in users.items()} == ROLES


@pytest.mark.django_db
def test_demo_has_teachers_with_and_without_accounts_and_a_service_history():
    call_command("seed_demo")
    without_account = Person.objects.filter(users__isnull=True, memberships__end_date__isnull=True).distinct()
    assert without_account.count() >= 5
    moved = Person.objects.filter(memberships__end_date__isnull=False).distinct()
    assert any(p.memberships.count() == 2 for p in moved)
    stages = set(Membership.objects.current().values_list("unit__stage", flat=True))
    assert {"國小", "國中", "高中", "幼兒園"} <= stages


@pytest.mark.django_db
def test_demo_business_account_signs_in_with_the_readme_secret(client):

    from inservice.demo import DEMO_TOTP_SECRET
    from tests.helpers import sign_in

    call_command("seed_demo")
    sign_in(client, "chief1", DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    assert client.session["_auth_user_id"] == str(User.objects.get(username="chief1").pk)


@pytest.mark.django_db
def test_demo_shows_the_year_of_courses():
    """Issue 18 point 10: a 審核錄取 course with a waiting list, a finished course with hours and a
    certificate, a kindergarten teacher with 教保研習 hours, a roster person for 申請教師帳號."""
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    review = Course.objects.get(admission=Admission.REVIEW, admission_announced_at__isnull=False)
    assert review.enrolments.filter(status=EnrolmentStatus.WAITING).count() == 3
    assert review.enrolments.filter(status=EnrolmentStatus.ADMITTED).count() == review.capacity
    teacher = User.objects.get(username="teacher1")
    assert review.enrolments.get(person=teacher.person).status == EnrolmentStatus.WAITING
    finished = Course.objects.get(code="DEMO-1150004")
    assert (
        finished.status == CourseStatus.CONFIRMED and IssuedHours.objects.filter(course=finished).count() == 3
    )
    found = certificates.verify(DEMO_CERTIFICATE_CODE)
    assert found is not None and "數位學習融入教學研習" in str(found)
    kg = User.objects.get(username="teacher2")
    year = record.year_record(kg.person, record.current_year())
    assert year.kindergarten and year.kindergarten_hours > 0
    prefix, name = APPLY_DEMO
    person = Person.objects.by_national_id(demo_national_id(prefix)).get()
    assert person.name == name and not person.users.exists()
    assert person.memberships.current().exists()
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    assert demo_national_id(prefix) in readme and name in readme
    assert certificates.display_code(DEMO_CERTIFICATE_CODE) in readme
