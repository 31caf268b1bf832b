"""Small hand-made data sets for the reward rules (SPEC §7), academic year 113.

113 runs 2024-08-01 to 2025-07-31; the population is taken on 2025-07-31. 屏東縣 (10013): school
window 2024-08-15 00:00 – 08-23 17:00:00, teacher window 2024-09-18 00:00 – 09-24 17:00:00.
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from accounts.models import Stage, Unit, UnitKind
from courses.models import Course, IssuedHours
from planning.models import TAIPEI, SchoolPlan, TeacherPlan
from rewards import services
from rewards.models import RewardRun
from teachers.models import Category
from tests.factories import MembershipFactory, PersonFactory, SchoolFactory

YEAR = 113
DAY = dt.date(2025, 7, 31)
TEACHER_LAST_MOMENT = dt.datetime(2024, 9, 24, 17, 0, 0, tzinfo=TAIPEI)
SCHOOL_LAST_MOMENT = dt.datetime(2024, 8, 23, 17, 0, 0, tzinfo=TAIPEI)
ONE_SECOND = dt.timedelta(seconds=1)
_courses = itertools.count(1)


@pytest.fixture(autouse=True)
def _transient_in_tmp(settings, tmp_path):
    """Stored exports (core.exports) are written under a folder of the test's own."""
    settings.TRANSIENT_ROOT = tmp_path / "transient"


@pytest.fixture
def pingtung(db):
    return Unit.objects.get(kind=UnitKind.AUTHORITY, code="10013")


@pytest.fixture
def taipei(db):
    return Unit.objects.get(kind=UnitKind.AUTHORITY, code="63000")


def ensure_pingtung_113() -> Unit:
    """屏東縣 with its 113 windows: a transactional test may have flushed the migrations' rows."""
    from planning.models import PlanningCycle, PlanningWindow

    authority, _ = Unit.objects.get_or_create(
        code="10013", defaults={"name": "屏東縣", "kind": UnitKind.AUTHORITY}
    )
    cycle, _ = PlanningCycle.objects.get_or_create(
        year=113, defaults={"roster_cutoff": dt.datetime(2024, 8, 2, 17, 0, tzinfo=TAIPEI)}
    )
    for kind, first, last in (
        ("school", (2024, 8, 15), (2024, 8, 23)),
        ("teacher", (2024, 9, 18), (2024, 9, 24)),
    ):
        PlanningWindow.objects.get_or_create(
            cycle=cycle, kind=kind, authority=authority,
            defaults={"first_day": dt.date(*first), "last_day": dt.date(*last)},
        )  # fmt: skip
    return authority


def school_in(authority, stage=Stage.PRIMARY, **kwargs):
    return SchoolFactory(authority=authority, stage=stage, **kwargs)


def teacher_in(
    school, *, start=dt.date(2020, 8, 1), end=None, category=Category.TEACHER, person=None, **kwargs
):
    person = person or PersonFactory(**kwargs)
    MembershipFactory(person=person, unit=school, start_date=start, end_date=end, category=category)
    return person


def give_hours(person, hours, day=dt.date(2024, 10, 1)):
    organiser = Unit.objects.filter(kind=UnitKind.SCHOOL).first()
    course = Course.objects.create(code=f"C{next(_courses):06d}", title="研習", organiser=organiser)
    return IssuedHours.objects.create(person=person, course=course, date=day, hours=Decimal(str(hours)))


def teacher_plan(person, at=TEACHER_LAST_MOMENT, year=YEAR):
    return TeacherPlan.objects.create(person=person, year=year, submitted_at=at)


def school_plan(school, at=SCHOOL_LAST_MOMENT, year=YEAR):
    return SchoolPlan.objects.create(school=school, year=year, submitted_at=at)


def run_job(year=YEAR) -> RewardRun:
    """Start and execute a run in this process (the task's body), as the shell would."""
    run = services.reward_run_start(actor=None, year=year, via="command")
    return services.reward_run_execute(run_id=run.pk)


@pytest.fixture
def small_world(pingtung):
    """One school of 屏東縣 with three teachers of 2, 4 and 9 hours, every plan sent in time."""
    school = school_in(pingtung)
    people = [teacher_in(school) for _ in range(3)]
    for person, hours in zip(people, (2, 4, 9), strict=True):
        give_hours(person, hours)
        teacher_plan(person)
    school_plan(school)
    return school, people
