"""Hooks that cannot be incomplete (issue 17 point 4): every relation to Person is handled by the
merge and the ID correction; a merge with rows of every kind works; a unique clash refuses it whole
and names the clash; a required hook that nobody registered fails loudly."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Person
from core.hooks import Hook, HookMissing
from courses.models import (
    Certificate,
    Course,
    Enrolment,
    EnrolmentStatus,
    FeedbackRespondent,
    FeedbackResponse,
    HoursCorrection,
    IssuedHours,
    KindergartenFeedRecord,
    KindergartenFeedRun,
    Questionnaire,
)
from planning.models import PlanningCycle, RosterSnapshot, SnapshotEntry, TeacherPlan
from rewards.models import RewardRun, TeacherResult
from teachers import hours, people, reassign
from teachers.models import Membership
from teachers.services import RosterError
from tests.factories import MembershipFactory, PersonFactory, valid_national_id
from tests.teachers.conftest import teacher_account

# Written out by hand: a new model pointing at Person fails here until people_merge handles it.
EVERY_RELATION = {
    "accounts.User",
    "accounts.BusinessAccount",
    "teachers.Membership",
    "teachers.TeacherAccount",
    "teachers.TeacherApplication",
    "courses.Enrolment",
    "courses.IssuedHours",
    "courses.HoursCorrection",
    "courses.Certificate",
    "courses.KindergartenFeedRecord",
    "courses.FeedbackRespondent",
    "courses.FeedbackResponse",
    "planning.TeacherPlan",
    "planning.SnapshotEntry",
    "rewards.TeacherResult",
}


def _related_rows(person) -> dict[str, int]:
    """Every relation to Person (hidden related names included), with the person's row count."""
    counts = {}
    for field in Person._meta.get_fields(include_hidden=True):
        if field.is_relation and field.auto_created and not field.concrete:
            model = field.related_model
            counts[model._meta.label] = model._default_manager.filter(**{field.field.name: person}).count()
    return counts


def test_every_relation_to_person_is_handled_by_the_merge():
    assert people.person_relations() == EVERY_RELATION
    assert people.unhandled_relations() == set()


@pytest.fixture
def course(school):
    return Course.objects.create(
        code="C-1", title="校園安全研習", organiser=school, authority=school.authority
    )


def _give_every_kind(person, *, course, school, operator, year=113):
    """One row of every kind a person can have beyond memberships and accounts."""
    Enrolment.objects.create(
        course=course, person=person, status=EnrolmentStatus.ADMITTED, applied_at=timezone.now()
    )
    IssuedHours.objects.create(person=person, course=course, date=dt.date(2024, 10, 1), hours=3)
    HoursCorrection.objects.create(
        course=course, person=person, hours_before=3, hours_after=4, reason="漏登", requested_by=operator
    )
    Certificate.objects.create(code=f"V{person.pk:07d}", person=person, course=course, hours=3)
    questionnaire = Questionnaire.objects.get_or_create(course=course, defaults={"anonymous": False})[0]
    FeedbackRespondent.objects.create(questionnaire=questionnaire, person=person)
    FeedbackResponse.objects.create(questionnaire=questionnaire, person=person)
    run = KindergartenFeedRun.objects.create(period="2024-11", adapter="file")
    KindergartenFeedRecord.objects.create(person=person, academic_year=year, hours=3, run=run)
    TeacherPlan.objects.create(person=person, year=year)
    cycle, _ = PlanningCycle.objects.get_or_create(year=year)
    snapshot, _ = RosterSnapshot.objects.get_or_create(cycle=cycle)
    SnapshotEntry.objects.create(
        snapshot=snapshot,
        school=school,
        person=person,
        name=person.name,
        category="教師",
        start_date=dt.date(2020, 8, 1),
    )
    reward_run = RewardRun.objects.create(year=year, class_width=Decimal("1"))
    TeacherResult.objects.create(
        run=reward_run,
        year=year,
        national_average=Decimal("10"),
        awarded=False,
        authority=school.authority,
        stage="國小",
        group_size=1,
        pr=Decimal("50"),
        class_lower_limit=Decimal("0"),
        below=0,
        in_class=1,
        at_least_average=False,
        top_30=False,
        plan_in_window=False,
        person=person,
        school=school,
        hours=Decimal("3"),
    )


@pytest.fixture
def duplicate(school, other_school, course, operator):
    person = PersonFactory(email="dup@example.org")
    Membership.objects.create(
        person=person,
        unit=other_school,
        start_date=dt.date(2015, 8, 1),
        end_date=dt.date(2021, 7, 31),
        end_reason="轉校",
    )
    teacher_account(person)
    _give_every_kind(person, course=course, school=school, operator=operator)
    return person


@pytest.fixture
def keep(school):
    return MembershipFactory(unit=school, start_date=dt.date(2021, 8, 1)).person


def test_a_person_with_rows_of_every_kind_merges_and_nothing_points_at_the_duplicate(
    operator, keep, duplicate
):
    before = _related_rows(duplicate)
    assert all(
        before[label]
        for label in EVERY_RELATION
        - {"accounts.User", "accounts.BusinessAccount", "teachers.TeacherApplication"}
    )
    moved = people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    assert not Person.objects.filter(pk=duplicate.pk).exists()
    after = _related_rows(keep)
    for label, count in before.items():
        assert after[label] >= count, label
    assert moved["報名"] == moved["研習證明"] == moved["教師獎勵結果"] == moved["教師名單"] == 1
    assert TeacherResult.objects.get().person_id == keep.pk  # no dead person id left behind


def test_both_enrolled_in_the_same_course_refuses_the_merge_whole_and_names_the_course(
    operator, keep, duplicate, course
):
    Enrolment.objects.create(
        course=course, person=keep, status=EnrolmentStatus.WAITING, applied_at=timezone.now()
    )
    before = _related_rows(duplicate)
    with pytest.raises(RosterError) as refused:
        people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    assert (
        str(refused.value.message)
        == "兩筆人員資料都報名了同一門課程（C-1 校園安全研習），無法合併；請先取消其中一筆報名。"
    )
    assert Person.objects.filter(pk=duplicate.pk).exists()
    assert _related_rows(duplicate) == before  # the memberships and hours moved first went back


def test_both_in_the_same_reward_run_refuses_the_merge_and_names_the_year(operator, keep, duplicate, school):
    TeacherResult.objects.create(
        **{
            f.name: getattr(TeacherResult.objects.get(), f.name)
            for f in TeacherResult._meta.concrete_fields
            if f.name not in ("id", "person")
        },
        person=keep,
    )
    with pytest.raises(RosterError) as refused:
        people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    assert (
        str(refused.value.message)
        == "兩筆人員資料在同一次獎勵作業（113 學年度）中都有教師獎勵結果，無法合併。"
    )
    assert TeacherResult.objects.filter(person_id=duplicate.pk).count() == 1


def test_a_relation_without_a_mover_fails_loudly_and_nothing_changes(operator, keep, duplicate, monkeypatch):
    monkeypatch.delitem(reassign.REASSIGNERS._impls, "courses.Enrolment")
    before = _related_rows(duplicate)
    with pytest.raises(HookMissing, match="courses.Enrolment"):
        people.people_merge(actor=operator, keep=keep, duplicate=duplicate)
    assert _related_rows(duplicate) == before


def test_the_id_correction_keeps_every_related_row(operator, duplicate):
    before = _related_rows(duplicate)
    people.person_national_id_correct(
        actor=operator, person=duplicate, new_national_id=valid_national_id(9101)
    )
    assert _related_rows(duplicate) == before


def test_the_required_hours_hook_fails_loudly_when_nobody_registered_it(monkeypatch):
    monkeypatch.setattr(hours.HOURS, "_impls", {})
    with pytest.raises(HookMissing, match="teachers.hours"):
        hours.hours_in_year("person_id", 113)


def test_a_one_hook_refuses_a_second_implementation_and_an_optional_empty_hook_answers_none():
    hook = Hook("test.one")
    assert hook.one() is None

    def first():
        return 1

    def second():
        return 2

    hook.register(first)
    hook.register(first)  # the same again: harmless
    with pytest.raises(Exception, match="already registered"):
        hook.register(second)
    assert hook() == 1
