"""Fixtures of the roster tests: a school with a roster, its managers, an outsider school."""

import datetime as dt

import pytest
from celery import current_app
from django.test import Client
from django.urls import reverse

from accounts.models import BusinessAccountType
from courses.models import Course, IssuedHours
from teachers.models import AccountStatus, Subject, TeacherAccount
from tests.dataexchange.conftest import csv_file, refused  # noqa: F401 — shared fixtures
from tests.factories import (
    AuthorityFactory,
    BusinessAccountFactory,
    MembershipFactory,
    PersonFactory,
    SchoolFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _eager_tasks():
    """The application e-mails are Celery tasks; run them in-process so mail.outbox sees them."""
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


_capture = None


@pytest.fixture(autouse=True)
def _commit_callbacks(django_capture_on_commit_callbacks):
    """Let ask_by_id run what the view queues with transaction.on_commit (the by-ID mail), as a commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield


def ask_by_id(client: Client, national_id: str, name: str):
    """帳號漫遊 方式二: the roaming person asks to be bound by national ID and name."""
    with _capture(execute=True):
        return client.post(
            reverse("teachers:sso-bind"), {"method": "id", "id-national_id": national_id, "id-name": name}
        )


@pytest.fixture(autouse=True)
def _reference_subjects(db):
    """Migration 0005 ships the lists; a browser test's flush (transaction=True) drops them again."""
    from teachers.subject_lists import ensure_reference_subjects

    if not Subject.objects.exclude(stages="").exists():
        ensure_reference_subjects()


def subject(name: str) -> Subject:
    return Subject.objects.get(name=name)


def member(unit, *, name=None, email="", category="教師", start=dt.date(2020, 8, 1), subjects=(), **kwargs):
    person = PersonFactory(**({"name": name} if name else {}), email=email)
    membership = MembershipFactory(person=person, unit=unit, category=category, start_date=start, **kwargs)
    if subjects:
        membership.subjects.set([subject(s) for s in subjects])
    return membership


def teacher_account(person, *, status=AccountStatus.ACTIVE):
    user = UserFactory(person=person)
    if status != AccountStatus.ACTIVE:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return TeacherAccount.objects.create(person=person, user=user, status=status)


def issue_hours(person, hours, day=None):
    course, _ = Course.objects.get_or_create(
        code=f"T-{day or 'x'}-{person.pk}-{hours}",
        defaults={"title": "研習", "organiser": person.memberships.first().unit},
    )
    return IssuedHours.objects.create(person=person, course=course, date=day or dt.date.today(), hours=hours)


@pytest.fixture
def other_chief(other_school):
    return BusinessAccountFactory(unit=other_school, type=BusinessAccountType.CHIEF).user


@pytest.fixture
def other_authority(db):
    return AuthorityFactory(code="63000", name="臺北市")


@pytest.fixture
def other_centre(other_authority):
    return BusinessAccountFactory(unit=other_authority, type=BusinessAccountType.CHIEF).user


@pytest.fixture
def far_school(other_authority):
    return SchoolFactory(authority=other_authority)
