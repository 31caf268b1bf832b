"""One plain sentence per decision (rewards/explain.py), including the formula's odd cases."""

import datetime as dt
from decimal import Decimal

from accounts.models import Stage
from rewards import explain
from rewards.models import AuthorityResult, SchoolResult, TeacherResult
from rewards.selectors import membership_on
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


def test_a_school_alone_in_its_group_is_explained_as_such(pingtung):
    school = school_in(pingtung, stage=Stage.SPECIAL)
    give_hours(teacher_in(school), 10)
    school_plan(school)
    run_job()
    sentence = explain.school_sentence(SchoolResult.objects.get(school=school))
    assert "本組僅有 1 所學校" in sentence
    # In words, not "(X − 真正下限 -0.5)": the class, its width and how far above its lower limit.
    assert "沒有其他學校可以比較" in sentence and "真正下限" not in sentence and " -" not in sentence
    assert "教師平均研習時數 10 小時所在的組距為" in sentence and "占組距的 50.00%" in sentence
    assert "PR 為 50.00（未達前 30%" in sentence
    assert "未符合獎勵標準" in sentence


def test_a_late_plan_is_named_with_its_time_and_window(pingtung):
    school = school_in(pingtung)
    person = teacher_in(school)
    give_hours(person, 5)
    teacher_plan(person, TEACHER_LAST_MOMENT + ONE_SECOND)
    run_job()
    sentence = explain.teacher_sentence(TeacherResult.objects.get(person=person))
    assert (
        "於 113年9月24日 17:00:01 送出教師自我進修規劃，不在填報期程（113年9月18日 00:00:00 至 113年9月24日 17:00:00）內"
        in sentence
    )


def test_an_authority_at_60_percent_is_explained_with_its_counts(pingtung):
    schools = [school_in(pingtung) for _ in range(5)]
    for school in schools[:3]:
        school_plan(school, SCHOOL_LAST_MOMENT)
    teacher_in(schools[0])
    run_job()
    sentence = explain.authority_sentence(AuthorityResult.objects.get(authority=pingtung))
    assert sentence == (
        "規劃範圍內所屬學校 5 所，於填報期程內送出學校本位進修規劃者 3 所，填報率 60.00%，達 60%，符合獎勵標準。"
    )


def test_a_value_equal_to_a_at_two_decimals_is_shown_with_six(pingtung):
    school = school_in(pingtung)
    people = [teacher_in(school) for _ in range(3)]
    for person, hours in zip(people, ("1.0", "1.0", "0.1"), strict=True):
        give_hours(person, hours)
    run_job()  # A = 2.1 / 3 = 0.7; no tie at two decimals here
    assert "未達全國平均 0.70 小時" in explain.teacher_sentence(TeacherResult.objects.get(person=people[2]))
    # 18.33 against A = 18.333333: both would show as 18.33, so six decimals tell them apart.
    assert explain._pair(Decimal("18.33"), Decimal("18.333333")) == ("18.330000", "18.333333")


def test_reasons_for_being_outside_the_population(pingtung):
    school = school_in(pingtung)
    kindergarten = school_in(pingtung, stage=Stage.KINDERGARTEN, name="屏東幼兒園")
    staff = teacher_in(school, category=Category.STAFF)
    preschool = teacher_in(kindergarten)
    gone = teacher_in(school, end=DAY - dt.timedelta(days=1))
    assert "身分為「行政職員」" in explain.outside_population(membership_on(staff.pk, DAY), DAY)
    assert "屏東幼兒園（幼兒園）" in explain.outside_population(membership_on(preschool.pk, DAY), DAY)
    assert explain.outside_population(membership_on(gone.pk, DAY), DAY) == (
        "您於 114年7月31日 沒有在職的服務紀錄，不在本年度獎勵的教師母體內。"
    )
