"""所屬學校規劃彙整 (issue 20 point 5): an authority reads its schools' plans together."""

from django.http import Http404
from django.shortcuts import render

from accounts import permissions
from accounts.permissions import Perm, requires
from planning import aggregates, selectors, services


@requires(Perm.FILL_RATES)
def authority_plans(request):
    """The authority's schools' answers counted, planned against actual hours per domain for the
    authority and for one chosen school; the operator picks the authority."""
    cycle = services.current_cycle()
    scope = permissions.unit_scope(request.user)
    authority, authorities = selectors.authority_to_read(request.user, request.GET.get("authority", ""))
    context = {"cycle": cycle, "authority": authority, "is_operator": scope.everything}
    if authorities is not None:
        context["authorities"] = authorities
    if cycle is None or authority is None:
        return render(request, "planning/authority_plans.html", context)
    schools = list(authority.units.in_planning_scope().order_by("code"))
    context["answers"] = aggregates.school_answer_counts(
        year=cycle.year, authority_id=authority.pk, schools_total=len(schools)
    )
    context["hours"] = aggregates.authority_hours(year=cycle.year, authority_id=authority.pk)
    context["schools"] = aggregates.school_rows(year=cycle.year, schools=schools)
    school_id = request.GET.get("school", "")
    if school_id:
        school = next((s for s in schools if str(s.pk) == school_id), None)
        if school is None or not scope.contains(school):
            raise Http404
        context["school"] = school
        context["school_hours"] = aggregates.school_hours(year=cycle.year, school_id=school.pk)
    return render(request, "planning/authority_plans.html", context)
