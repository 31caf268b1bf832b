"""Which schools are in planning scope: one constant, read by every consumer (SPEC §6, §7; issue 17).

SPEC §6/§7 fix the stages (國小/國中/高中/高職/特殊教育學校, no 幼兒園); no cycle chooses them. One
school of every stage under one authority, one teacher in each, and every reader must agree on the
same five: the plan forms' scope, the roster snapshot, the fill rates, the reward population and
the authority award's denominator.
"""

import datetime as dt

from django.urls import reverse

from accounts import models as accounts_models
from accounts.models import PLANNING_STAGES, Stage, Unit
from planning import services as planning_services
from planning.fill_rates import school_plan_fill_rates
from planning.models import PlanningCycle, SnapshotEntry
from rewards.models import AuthorityResult, SchoolResult, TeacherResult
from tests.helpers import signed_in_client
from tests.rewards.conftest import YEAR, run_job, school_in, school_plan, teacher_in

SPEC_STAGES = {"國小", "國中", "高中", "高職", "特殊教育學校"}


def test_the_stages_in_scope_are_the_spec_s_and_no_cycle_holds_its_own():
    assert set(PLANNING_STAGES) == SPEC_STAGES
    assert "stages" not in {field.name for field in PlanningCycle._meta.get_fields()}


def test_every_reader_agrees_on_the_schools_in_scope(pingtung):
    schools = {stage: school_in(pingtung, stage=stage) for stage in Stage.values}
    teachers = {stage: teacher_in(school) for stage, school in schools.items()}
    for school in schools.values():
        school_plan(school)
    in_scope = {schools[stage].pk for stage in SPEC_STAGES}

    assert {s.pk for s in schools.values() if planning_services.school_in_scope(s)} == in_scope
    assert set(Unit.objects.filter(authority=pingtung).in_planning_scope().values_list("pk", flat=True)) == (
        in_scope
    )
    day = dt.date(2024, 10, 1)
    assert {
        stage
        for stage, person in teachers.items()
        if planning_services.teacher_school(person, day) is not None
    } == SPEC_STAGES
    planning_services.roster_snapshot_take(cycle_id=PlanningCycle.objects.get(year=YEAR).pk)
    assert set(SnapshotEntry.objects.values_list("school_id", flat=True)) == in_scope
    rate = school_plan_fill_rates(year=YEAR)[pingtung.pk]
    assert (rate.submitted, rate.total) == (5, 5)

    run_job()
    assert set(TeacherResult.objects.values_list("school_id", flat=True)) == in_scope
    assert set(SchoolResult.objects.values_list("school_id", flat=True)) == in_scope
    authority = AuthorityResult.objects.get(authority=pingtung)
    assert (authority.schools_submitted, authority.schools_total) == (5, 5)


def test_the_cycle_page_shows_the_fixed_stages_and_offers_no_choice(operator):
    cycle = PlanningCycle.objects.get(year=YEAR)
    page = signed_in_client(operator).get(reverse("planning:cycle", args=[cycle.year])).content.decode()
    assert "規劃範圍之教育階段：國小、國中、高中、高職、特殊教育學校（依實施計畫固定，不含幼兒園）" in page
    assert 'name="stages"' not in page


def test_every_reader_follows_the_one_constant_when_it_changes(pingtung, monkeypatch):
    """A reader with its own copy of the stages (a list written out in the reward job's SQL, a
    constant bound at import) would keep 高職 here; every reader must drop it with the constant."""
    narrowed = tuple(stage for stage in PLANNING_STAGES if stage != Stage.VOCATIONAL)
    monkeypatch.setattr(accounts_models, "PLANNING_STAGES", narrowed)
    schools = {stage: school_in(pingtung, stage=stage) for stage in Stage.values}
    for school in schools.values():
        teacher_in(school)
        school_plan(school)
    in_scope = {schools[stage].pk for stage in narrowed}

    sql, params = accounts_models.in_planning_scope_sql("u.id")
    assert "%s" in sql and not any(str(stage) in sql for stage in Stage.values)  # values are parameters
    assert str(Stage.VOCATIONAL) not in params
    run_job()
    assert set(TeacherResult.objects.values_list("school_id", flat=True)) == in_scope
    assert set(SchoolResult.objects.values_list("school_id", flat=True)) == in_scope
    authority = AuthorityResult.objects.get(authority=pingtung)
    assert (authority.schools_submitted, authority.schools_total) == (4, 4)
