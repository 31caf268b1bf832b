"""填報率 (SPEC §6 B2, §7): school plans submitted inside the window ÷ every in-scope school."""

import datetime as dt
from fractions import Fraction

import pytest

from accounts.models import Stage, Unit, UnitKind
from planning.fill_rates import school_plan_fill_rates
from planning.models import TAIPEI, SchoolPlan
from tests.factories import SchoolFactory

# 屏東縣's school window in 113: 8/15 00:00 – 8/23 17:00:00.
INSIDE = dt.datetime(2024, 8, 23, 17, 0, 0, tzinfo=TAIPEI)
LATE = dt.datetime(2024, 8, 23, 17, 0, 1, tzinfo=TAIPEI)
EARLY = dt.datetime(2024, 8, 14, 23, 59, 59, tzinfo=TAIPEI)


@pytest.fixture
def pingtung(db):
    return Unit.objects.get(kind=UnitKind.AUTHORITY, code="10013")


def _schools(authority, n, stage=Stage.PRIMARY):
    return [SchoolFactory(authority=authority, stage=stage) for _ in range(n)]


def test_an_authority_at_exactly_sixty_percent(pingtung):
    schools = _schools(pingtung, 5)
    for school in schools[:3]:
        SchoolPlan.objects.create(school=school, year=113, submitted_at=INSIDE)
    rate = school_plan_fill_rates(year=113)[pingtung.pk]
    assert (rate.submitted, rate.total) == (3, 5)
    assert rate.rate == Fraction(3, 5)


def test_late_early_draft_and_other_year_plans_do_not_count(pingtung):
    late, early, draft, other_year, good = _schools(pingtung, 5)
    SchoolPlan.objects.create(school=late, year=113, submitted_at=LATE)
    SchoolPlan.objects.create(school=early, year=113, submitted_at=EARLY)
    SchoolPlan.objects.create(school=draft, year=113, submitted_at=None)
    SchoolPlan.objects.create(school=other_year, year=112, submitted_at=INSIDE)
    SchoolPlan.objects.create(school=good, year=113, submitted_at=INSIDE)
    rate = school_plan_fill_rates(year=113)[pingtung.pk]
    assert (rate.submitted, rate.total) == (1, 5)


def test_kindergartens_are_outside_the_scope_and_schools_without_teachers_count(pingtung):
    kindergarten = SchoolFactory(authority=pingtung, stage=Stage.KINDERGARTEN)
    SchoolPlan.objects.create(school=kindergarten, year=113, submitted_at=INSIDE)
    (empty_school,) = _schools(pingtung, 1, stage=Stage.JUNIOR)
    rate = school_plan_fill_rates(year=113)[pingtung.pk]
    assert (rate.submitted, rate.total) == (0, 1)
    assert rate.rate == 0


def test_each_authority_is_judged_by_its_own_window(pingtung):
    taipei = Unit.objects.get(kind=UnitKind.AUTHORITY, code="63000")  # window 8/5 – 8/14
    (taipei_school,) = _schools(taipei, 1)
    SchoolPlan.objects.create(school=taipei_school, year=113, submitted_at=INSIDE)  # 8/23: late for 臺北市
    rates = school_plan_fill_rates(year=113)
    assert (rates[taipei.pk].submitted, rates[taipei.pk].total) == (0, 1)
    assert rates[pingtung.pk].rate is None
