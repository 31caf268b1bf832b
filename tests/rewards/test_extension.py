"""A plan resubmitted inside its recorded extension counts as inside its window (SPEC §6, §7; issue 20 point 4)."""

from planning.models import SchoolPlan, TeacherPlan
from rewards.explain import school_sentence, teacher_sentence
from rewards.models import AuthorityResult, SchoolResult, TeacherResult
from tests.rewards.conftest import (
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

HOUR = 3600 * ONE_SECOND


def test_a_late_plan_counts_only_inside_its_extension_and_the_explanation_says_so(pingtung):
    school = school_in(pingtung)
    extended, late, beyond = teacher_in(school), teacher_in(school), teacher_in(school)
    for person in (extended, late, beyond):
        give_hours(person, 30)
    teacher_plan(extended, TEACHER_LAST_MOMENT + HOUR)
    teacher_plan(late, TEACHER_LAST_MOMENT + HOUR)
    teacher_plan(beyond, TEACHER_LAST_MOMENT + 3 * HOUR)
    TeacherPlan.objects.filter(person__in=[extended, beyond]).update(
        extended_until=TEACHER_LAST_MOMENT + 2 * HOUR
    )
    school_plan(school, SCHOOL_LAST_MOMENT + HOUR)
    SchoolPlan.objects.filter(school=school).update(extended_until=SCHOOL_LAST_MOMENT + HOUR)
    run_job()
    results = {row.person_id: row for row in TeacherResult.objects.select_related("authority")}
    assert results[extended.pk].plan_in_window
    assert not results[late.pk].plan_in_window  # no extension: a closed window stays closed
    assert not results[beyond.pk].plan_in_window  # after the extension ran out
    assert "延長截止時間內" in teacher_sentence(results[extended.pk])
    assert "不在填報期程" in teacher_sentence(results[late.pk])
    row = SchoolResult.objects.select_related("authority").get(school=school)
    assert row.plan_in_window and "延長截止時間內" in school_sentence(row)
    assert AuthorityResult.objects.get(authority=pingtung).schools_submitted == 1
