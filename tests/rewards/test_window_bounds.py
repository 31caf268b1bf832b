"""The planning window, one rule read by every consumer (SPEC §6, §7; issue 17 point 3).

A window runs from 00:00 of its first day to 17:00:00 of its last day, both included, Asia/Taipei;
a plan's recorded extension moves the close. `PlanningWindow.admits` / `admits_q` / `admits_sql`
hold the rule; this test puts a plan on each side of each bound and asks every reader: the plan
itself, the school and teacher fill rates (the 填報率 page, the authority award) and the reward
job (its raw SQL for teachers, its Python for schools). Moving a bound in any one of them fails here.
"""

import datetime as dt

import pytest

from planning import services as planning_services
from planning.fill_rates import (
    school_plan_fill_rates,
    school_plans_submitted_in_window,
    teacher_plan_fill_rates,
)
from planning.models import TAIPEI, PlanKind, PlanningCycle, SchoolPlan, TeacherPlan
from planning.windows import window_for
from rewards.models import AuthorityResult, SchoolResult, TeacherResult
from tests.rewards.conftest import YEAR, run_job, school_in, teacher_in

MICROSECOND = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)
# 屏東縣 in the shipped 113 schedule.
SCHOOL_OPENS = dt.datetime(2024, 8, 15, 0, 0, 0, tzinfo=TAIPEI)
SCHOOL_CLOSES = dt.datetime(2024, 8, 23, 17, 0, 0, tzinfo=TAIPEI)
TEACHER_OPENS = dt.datetime(2024, 9, 18, 0, 0, 0, tzinfo=TAIPEI)
TEACHER_CLOSES = dt.datetime(2024, 9, 24, 17, 0, 0, tzinfo=TAIPEI)

# (name, instant relative to (opens, closes), extension relative to closes or None, counts)
CASES = [
    ("a microsecond before 00:00 of the first day", lambda o, c: o - MICROSECOND, None, False),
    ("00:00 of the first day", lambda o, c: o, None, True),
    ("17:00:00 of the last day", lambda o, c: c, None, True),
    ("17:00:00.000001 of the last day", lambda o, c: c + MICROSECOND, None, False),
    ("after the close, inside a recorded extension", lambda o, c: c + HOUR, 2 * HOUR, True),
    ("at the recorded extension's last instant", lambda o, c: c + HOUR, HOUR, True),
    ("a microsecond after the recorded extension", lambda o, c: c + HOUR + MICROSECOND, HOUR, False),
    ("before the opening, with an extension", lambda o, c: o - MICROSECOND, HOUR, False),
]


@pytest.mark.parametrize(("name", "instant", "extension", "counts"), CASES, ids=[c[0] for c in CASES])
def test_every_reader_of_the_window_puts_the_bound_in_the_same_place(
    pingtung, name, instant, extension, counts
):
    school = school_in(pingtung)
    person = teacher_in(school)
    school_at = instant(SCHOOL_OPENS, SCHOOL_CLOSES)
    teacher_at = instant(TEACHER_OPENS, TEACHER_CLOSES)
    school_plan = SchoolPlan.objects.create(
        school=school,
        year=YEAR,
        submitted_at=school_at,
        extended_until=SCHOOL_CLOSES + extension if extension else None,
    )
    teacher_plan = TeacherPlan.objects.create(
        person=person,
        year=YEAR,
        school=school,
        submitted_at=teacher_at,
        extended_until=TEACHER_CLOSES + extension if extension else None,
    )
    planning_services.roster_snapshot_take(cycle_id=PlanningCycle.objects.get(year=YEAR).pk)
    school_window = window_for(year=YEAR, kind=PlanKind.SCHOOL, authority_id=pingtung.pk)
    teacher_window = window_for(year=YEAR, kind=PlanKind.TEACHER, authority_id=pingtung.pk)
    assert (school_window.opens_at, school_window.closes_at) == (SCHOOL_OPENS, SCHOOL_CLOSES)
    assert (teacher_window.opens_at, teacher_window.closes_at) == (TEACHER_OPENS, TEACHER_CLOSES)

    # The plans themselves (the Python reading).
    assert school_plan.in_window(school_window) is counts
    assert teacher_plan.in_window(teacher_window) is counts
    # 填報率 (the Q reading): school plans, the page's per-school mark, teacher plans.
    assert school_plan_fill_rates(year=YEAR)[pingtung.pk].submitted == int(counts)
    assert (school.pk in school_plans_submitted_in_window(year=YEAR)) is counts
    assert teacher_plan_fill_rates(year=YEAR)[pingtung.pk].submitted == int(counts)
    # The reward job: teachers in raw SQL, schools in Python, the authority from the fill rates.
    run_job()
    assert TeacherResult.objects.get(person=person).plan_in_window is counts
    assert SchoolResult.objects.get(school=school).plan_in_window is counts
    assert AuthorityResult.objects.get(authority=pingtung).schools_submitted == int(counts)
