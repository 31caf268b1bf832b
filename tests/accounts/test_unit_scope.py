"""One unit scope (issue 17 point 1): operator all, centre its authority's units, a school account its
own unit, read two ways (a Q and a predicate) that must agree on every unit of the cast."""

import pytest

from accounts import permissions
from accounts.models import Unit
from accounts.permissions import Perm, ScopedPerm
from courses.models import Course
from courses.services import authority_of
from tests.courses.conftest import course_fields


def course_of(unit) -> Course:
    return Course.objects.create(organiser=unit, authority=authority_of(unit), **course_fields())


UNITS = ("school", "other_school", "far_school", "authority", "other_authority", "university")

# What each role's scope reaches, written out by hand.
REACHES = {
    "chief": {"school"},
    "contact": {"school"},
    "clerk": {"school"},
    "centre": {"school", "other_school", "authority"},
    "operator": set(UNITS),
    "teacher": set(),
}


@pytest.mark.parametrize("role", sorted(REACHES))
def test_unit_scope_reads_the_same_as_q_and_as_predicate(request, role):
    units = {name: request.getfixturevalue(name) for name in UNITS}
    actor = request.getfixturevalue(role)
    scope = permissions.unit_scope(actor)
    by_q = set(Unit.objects.filter(scope.q()).filter(pk__in=[u.pk for u in units.values()]))
    by_predicate = {unit for unit in units.values() if scope.contains(unit)}
    expected = {units[name] for name in REACHES[role]}
    assert by_q == expected
    assert by_predicate == expected


@pytest.mark.parametrize("role", ["chief", "contact", "clerk", "centre", "teacher"])
def test_colleague_shares_the_scope_and_outsiders_do_not(actors, school, role):
    cast = actors(role)
    if role == "teacher":
        assert not permissions.unit_scope(cast.actor).contains(school)
        return
    assert permissions.unit_scope(cast.actor).contains(school)
    assert permissions.unit_scope(cast.colleague).contains(school)
    if cast.outsider is not None:
        assert not permissions.unit_scope(cast.outsider).contains(school)
    assert not permissions.unit_scope(cast.far_outsider).contains(school)


def test_scope_narrows_a_permission_and_never_replaces_it(centre, school):
    """A centre's scope reaches its schools, yet it holds no 研習課程管理: it manages no course there."""
    course = course_of(school)
    manage = ScopedPerm(Perm.COURSE_MANAGE, "organiser")
    assert permissions.unit_scope(centre).contains(school)
    assert not manage.allows(centre, course)
    assert not Course.objects.filter(manage.q(centre)).exists()


@pytest.mark.parametrize("role", ["chief", "clerk", "centre", "operator"])
def test_scoped_perm_reads_the_same_as_q_and_as_predicate(request, role, school, other_school, far_school):
    courses = [course_of(unit) for unit in (school, other_school, far_school)]
    actor = request.getfixturevalue(role)
    for rule in (
        ScopedPerm(Perm.COURSE_MANAGE, "organiser"),
        ScopedPerm(Perm.HOURS_CORRECTION_APPROVE, "authority"),
    ):
        by_q = set(Course.objects.filter(rule.q(actor)).filter(pk__in=[c.pk for c in courses]))
        assert by_q == {c for c in courses if rule.allows(actor, c)}


def test_requires_keeps_the_view_name_and_doc():
    @permissions.requires(Perm.FILL_RATES)
    def some_view(request):
        """Doc."""

    assert some_view.__name__ == "some_view"
    assert some_view.__doc__ == "Doc."
