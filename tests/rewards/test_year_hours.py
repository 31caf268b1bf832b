""" "Hours of a person in year Y" (SPEC §7; issue 17 point 3): one queryset method, every reader.

Year 113 runs from 2024-08-01 to 2025-07-31, both included. One teacher has hours on each side of
both bounds; every figure that sums a year's hours must give the same 6.0, and the method itself
must put the bounds there (a bound moved in `IssuedHours.objects.in_year` fails every line).
"""

import datetime as dt
from decimal import Decimal

from accounts.permissions import unit_scope
from courses.charts import hours_per_domain
from courses.models import IssuedHours
from courses.record import year_record
from planning import aggregates, selectors
from planning.models import TeacherPlan
from rewards.models import TeacherResult
from rewards.services import year_has_hours
from teachers import hours
from teachers.models import Membership
from tests.rewards.conftest import YEAR, give_hours, run_job, school_in, teacher_in

SIX = Decimal("6.0")


def test_every_reader_of_a_year_s_hours_puts_the_bounds_on_1_august_and_31_july(pingtung, operator):
    school = school_in(pingtung)
    person = teacher_in(school)
    for day, amount in (
        (dt.date(2024, 7, 31), 1),  # year 112
        (dt.date(2024, 8, 1), 2),
        (dt.date(2025, 7, 31), 4),
        (dt.date(2025, 8, 1), 8),  # year 114
    ):
        give_hours(person, amount, day)
    TeacherPlan.objects.create(person=person, year=YEAR, school=school)

    assert sorted(IssuedHours.objects.in_year(YEAR).values_list("date", flat=True)) == [
        dt.date(2024, 8, 1),
        dt.date(2025, 7, 31),
    ]
    # teachers: the roster's 統合視導 filter, through its hook.
    roster = Membership.objects.filter(person=person).annotate(
        year_hours=hours.hours_in_year("person_id", YEAR)
    )
    assert roster.get().year_hours == SIX
    # courses: the learning record and the 統計圖表.
    assert year_record(person, YEAR).total == SIX
    assert sum(hours_per_domain(unit_scope(operator), YEAR).values) == 6.0
    # planning: the teacher's planned-against-actual table and the authority's.
    assert sum(row["actual"] for row in selectors.hours_progress(person.pk, YEAR, None)) == SIX
    assert aggregates.school_hours(year=YEAR, school_id=school.pk)["actual_total"] == SIX
    # rewards: the job (raw SQL built from the same queryset) and its "any hours this year" check.
    run_job()
    assert TeacherResult.objects.get(person=person).hours == SIX
    assert year_has_hours(YEAR) and not year_has_hours(YEAR + 2)
