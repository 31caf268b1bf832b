import datetime as dt

import pytest

from accounts.models import Stage, Unit, UnitKind
from planning.models import TAIPEI
from tests.factories import MembershipFactory, SchoolFactory, UserFactory


def taipei(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TAIPEI)


# 屏東縣 (the `authority` fixture) in the shipped 113 schedule.
SCHOOL_OPENS = taipei(2024, 8, 15, 0, 0, 0)
SCHOOL_CLOSES = taipei(2024, 8, 23, 17, 0, 0)
TEACHER_OPENS = taipei(2024, 9, 18, 0, 0, 0)
TEACHER_CLOSES = taipei(2024, 9, 24, 17, 0, 0)
ONE_MICROSECOND = dt.timedelta(microseconds=1)


@pytest.fixture
def clock(monkeypatch):
    """Set the server's clock: clock(dt) makes every window decision happen at that instant."""

    def set_clock(instant: dt.datetime):
        monkeypatch.setattr("planning.clock.now", lambda: instant)

    return set_clock


@pytest.fixture
def taipei_city(db):
    return Unit.objects.get(kind=UnitKind.AUTHORITY, name="臺北市")


@pytest.fixture
def taipei_school(taipei_city):
    return SchoolFactory(authority=taipei_city, stage=Stage.JUNIOR)


@pytest.fixture
def kindergarten_teacher(authority):
    user = UserFactory()
    MembershipFactory(person=user.person, unit=SchoolFactory(authority=authority, stage=Stage.KINDERGARTEN))
    return user


FULL_ANSWERS = {
    "mode": ["non_credit"],
    "time": ["saturday", "summer"],
    "place": ["own_school"],
    "level": ["basic"],
    "method": ["workshop"],
    "domain": ["curriculum"],
}


def plan_post(action: str = "draft", students: int | None = 320, **extra) -> dict:
    data: dict = {"action": action, **FULL_ANSWERS}
    if students is not None:
        data["student_count"] = students
    data.update(extra)
    return data
