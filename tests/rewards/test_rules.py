"""The SPEC §7 definitions on small hand-made data sets, through the job's service."""

import datetime as dt
from decimal import Decimal

from accounts.models import Stage
from rewards.models import AuthorityResult, RunStatus, SchoolResult, TeacherResult
from teachers.models import Category
from tests.rewards.conftest import (
    DAY,
    ONE_SECOND,
    SCHOOL_LAST_MOMENT,
    TEACHER_LAST_MOMENT,
    give_hours,
    run_job,
    school_in,
    school_plan,
    teacher_in,
    teacher_plan,
)


def result(person):
    return TeacherResult.objects.filter(person_id=person.pk).first()


def test_population_is_teachers_on_31_july_at_in_scope_schools(pingtung):
    school = school_in(pingtung)
    kindergarten = school_in(pingtung, stage=Stage.KINDERGARTEN)
    serving = teacher_in(school)
    left_before = teacher_in(school, end=DAY - dt.timedelta(days=1))
    left_on_the_day = teacher_in(school, end=DAY)
    joined_after = teacher_in(school, start=DAY + dt.timedelta(days=1))
    staff = teacher_in(school, category=Category.STAFF)
    preschool = teacher_in(kindergarten)
    run = run_job()
    assert run.status == RunStatus.SUCCEEDED
    in_population = set(TeacherResult.objects.values_list("person_id", flat=True))
    assert in_population == {serving.pk, left_on_the_day.pk}
    assert not {left_before.pk, joined_after.pk, staff.pk, preschool.pk} & in_population
    assert run.summary["population"] == 2


def test_teachers_without_hours_count_with_zero(pingtung):
    school = school_in(pingtung)
    idle, busy = teacher_in(school), teacher_in(school)
    give_hours(busy, 10)
    run = run_job()
    assert result(idle).hours == 0
    assert run.summary["national_average"] == "5.000000"


def test_a_teacher_moved_mid_year_counts_at_the_31_july_school_with_all_hours(pingtung, taipei):
    first = school_in(taipei)
    second = school_in(pingtung, stage=Stage.JUNIOR)
    person = teacher_in(first, end=dt.date(2025, 1, 31))
    teacher_in(second, start=dt.date(2025, 2, 1), person=person)
    give_hours(person, 3, dt.date(2024, 9, 1))  # earned at the first school
    give_hours(person, 4, dt.date(2025, 3, 1))
    run_job()
    row = result(person)
    assert (row.school_id, row.authority_id, row.stage, row.hours) == (second.pk, pingtung.pk, "國中", 7)


def test_a_move_on_31_july_takes_the_school_started_that_day(pingtung):
    # A move ends the old membership the day before (two periods never share a day: SPEC §3.1).
    old, new = school_in(pingtung), school_in(pingtung, stage=Stage.JUNIOR)
    person = teacher_in(old, end=DAY - dt.timedelta(days=1))
    teacher_in(new, start=DAY, person=person)
    run_job()
    assert result(person).school_id == new.pk
    assert TeacherResult.objects.count() == 1


def test_hours_count_from_1_august_to_31_july_only(pingtung):
    school = school_in(pingtung)
    person = teacher_in(school)
    give_hours(person, 1, dt.date(2024, 7, 31))  # year 112
    give_hours(person, 2, dt.date(2024, 8, 1))
    give_hours(person, 4, dt.date(2025, 7, 31))
    give_hours(person, 8, dt.date(2025, 8, 1))  # year 114
    run_job()
    assert result(person).hours == Decimal("6.0")


def test_teacher_plan_at_17_00_00_of_the_last_day_is_in_time_and_17_00_01_is_not(pingtung):
    school = school_in(pingtung)
    on_time, late = teacher_in(school), teacher_in(school)
    teacher_plan(on_time, TEACHER_LAST_MOMENT)
    teacher_plan(late, TEACHER_LAST_MOMENT + ONE_SECOND)
    run_job()
    assert result(on_time).plan_in_window
    assert not result(late).plan_in_window
    assert result(late).plan_submitted_at == TEACHER_LAST_MOMENT + ONE_SECOND


def test_teacher_window_is_the_31_july_authority_s_and_plans_of_other_years_do_not_count(pingtung, taipei):
    # 臺北市's teacher window ends 2024-09-16 17:00; 屏東縣's runs 09-18 to 09-24.
    school = school_in(taipei)
    person = teacher_in(school)
    other_year = teacher_in(school)
    teacher_plan(person, TEACHER_LAST_MOMENT)  # inside 屏東縣's window, not 臺北市's
    teacher_plan(other_year, dt.datetime(2024, 9, 12, 9, 0, tzinfo=dt.UTC), year=112)
    run_job()
    assert not result(person).plan_in_window
    assert result(other_year).plan_submitted_at is None


def test_pr_exactly_70_with_hours_over_a_and_a_plan_in_time_is_awarded(pingtung):
    school = school_in(pingtung)
    people = [teacher_in(school) for _ in range(5)]
    for person, hours in zip(people, [1, 2, 2, 3, 5], strict=True):
        give_hours(person, hours)
        teacher_plan(person)
    run = run_job()
    # A = 13/5 = 2.6; X = 3: c = 3, X_L = 2.5, cf_L = 3, f_x = 1 -> PR = 3.5 * 100 / 5 = 70.
    three = result(people[3])
    assert (three.pr, three.below, three.in_class, three.class_lower_limit) == (70, 3, 1, Decimal("2.5"))
    assert three.top_30 and three.at_least_average and three.awarded
    assert three.pr_shown == "70.00"
    two = result(people[1])
    assert not two.awarded and not two.top_30 and not two.at_least_average
    assert run.summary["teachers_awarded"] == 2
    assert run.summary["national_average"] == "2.600000"


def test_hours_exactly_equal_to_a_count_as_reaching_it(pingtung):
    school = school_in(pingtung)
    a, b, c = (teacher_in(school) for _ in range(3))
    for person, hours in ((a, "1.0"), (b, "2.0"), (c, "3.0")):
        give_hours(person, hours)
    run_job()
    assert result(b).at_least_average  # A = 2 exactly
    assert not result(a).at_least_average


def test_a_teacher_needs_all_three_conditions(pingtung):
    school = school_in(pingtung)
    top_no_plan, top_late_plan, top_plan = teacher_in(school), teacher_in(school), teacher_in(school)
    low = [teacher_in(school) for _ in range(6)]
    for person in (top_no_plan, top_late_plan, top_plan):
        give_hours(person, 20)
    teacher_plan(top_late_plan, TEACHER_LAST_MOMENT + ONE_SECOND)
    teacher_plan(top_plan)
    teacher_plan(low[0])
    run_job()
    # The three at 20: cf_L = 6, f_x = 3, N = 9 -> PR = 7.5 * 100 / 9 = 83.3; A = 60 / 9.
    assert [result(p).awarded for p in (top_no_plan, top_late_plan, top_plan, low[0])] == [
        False,
        False,
        True,
        False,
    ]
    assert result(top_no_plan).top_30 and result(top_no_plan).at_least_average


def test_groups_are_authority_and_stage(pingtung, taipei):
    primary, junior, elsewhere = (
        school_in(pingtung),
        school_in(pingtung, stage=Stage.JUNIOR),
        school_in(taipei),
    )
    for school in (primary, junior, elsewhere):
        for _ in range(2):
            teacher_in(school)
    run_job()
    sizes = set(TeacherResult.objects.values_list("authority_id", "stage", "group_size"))
    assert sizes == {(pingtung.pk, "國小", 2), (pingtung.pk, "國中", 2), (taipei.pk, "國小", 2)}


def test_school_award_uses_its_population_teachers_average_and_school_pr(pingtung):
    schools = [school_in(pingtung) for _ in range(3)]
    for school, hours in zip(schools, [(1, 1), (2, 4), (10, 12)], strict=True):
        for h in hours:
            give_hours(teacher_in(school), h)
        school_plan(school)
    staff = teacher_in(schools[0], category=Category.STAFF)
    give_hours(staff, 100)  # 行政職員 hours do not raise the school's average
    run = run_job()
    rows = {r.school_id: r for r in SchoolResult.objects.all()}
    assert [rows[s.pk].average for s in schools] == [1, 3, 11]
    assert [rows[s.pk].teachers for s in schools] == [2, 2, 2]
    # A = 30/6 = 5; school PRs over averages 1, 3, 11 (i = 1): 50/3, 50, 250/3.
    assert rows[schools[2].pk].pr == Decimal("83.333333")
    assert [rows[s.pk].awarded for s in schools] == [False, False, True]
    assert run.summary["schools_awarded"] == 1


def test_school_plan_one_second_late_loses_the_school_award(pingtung):
    school = school_in(pingtung)
    give_hours(teacher_in(school), 10)
    school_plan(school, SCHOOL_LAST_MOMENT + ONE_SECOND)
    run_job()
    row = SchoolResult.objects.get(school=school)
    assert not row.plan_in_window and not row.awarded
    # Alone in its group with an average of exactly 10: PR = (10 - 9.5) / 1 * 100 = 50.
    assert (row.group_size, row.pr, row.top_30) == (1, 50, False)


def test_schools_without_teachers_are_skipped_but_count_for_their_authority(pingtung):
    with_teachers, empty = school_in(pingtung), school_in(pingtung)
    teacher_in(with_teachers)
    school_plan(with_teachers)
    run_job()
    assert list(SchoolResult.objects.values_list("school_id", flat=True)) == [with_teachers.pk]
    authority = AuthorityResult.objects.get(authority=pingtung)
    assert (authority.schools_submitted, authority.schools_total, authority.fill_rate) == (
        1,
        2,
        Decimal("0.5"),
    )
    assert not authority.awarded
    assert not SchoolResult.objects.filter(school=empty).exists()


def test_an_authority_at_exactly_60_percent_is_awarded(pingtung, taipei):
    schools = [school_in(pingtung) for _ in range(5)]
    for school in schools[:3]:
        school_plan(school)
    taipei_schools = [school_in(taipei) for _ in range(5)]
    for school in taipei_schools[:2]:
        school_plan(school, dt.datetime(2024, 8, 14, 17, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    teacher_in(schools[0])
    run = run_job()
    ping = AuthorityResult.objects.get(authority=pingtung)
    assert (ping.fill_rate, ping.awarded, ping.schools_total) == (Decimal("0.6"), True, 5)
    assert not AuthorityResult.objects.get(authority=taipei).awarded
    assert run.summary["authorities_awarded"] == 1
    # Authorities without any in-scope school have no row.
    assert AuthorityResult.objects.count() == 2
