"""What an authority's schools planned, together (issue 20 point 5): the school plans' answers counted
per option, and planned against actual hours per domain for a school or a whole authority.

Planned hours are those of the teacher plans recorded under the school (TeacherPlan.school); actual
hours are the hours issued to the same teachers inside the academic year, by the course's domain.
Both sides count the same teachers, so the two columns can be compared.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from courses.models import IssuedHours
from planning.choices import NEED_QUESTIONS, OPTIONS, Domain, Question
from planning.models import PlannedHours, SchoolPlan, SchoolPlanAnswer, TeacherPlan

UNCLASSIFIED = "未分類"


def school_answer_counts(*, year: int, authority_id: int, schools_total: int) -> dict:
    """Per question of the school plan, how many submitted plans of the authority's schools chose each option."""
    submitted = SchoolPlan.objects.filter(
        year=year, school__authority_id=authority_id, submitted_at__isnull=False
    )
    counts = {
        (row["question"], row["option"]): row["n"]
        for row in SchoolPlanAnswer.objects.filter(plan__in=submitted)
        .values("question", "option")
        .annotate(n=Count("plan", distinct=True))
    }
    questions = []
    for question in (*NEED_QUESTIONS, Question.DOMAIN):
        options = [
            {"label": str(label), "count": counts.get((question, code), 0)}
            for code, label in OPTIONS[question]
        ]
        questions.append({"label": str(Question(question).label), "options": options})
    return {"submitted": submitted.count(), "schools_total": schools_total, "questions": questions}


def hours_by_domain(*, year: int, plans) -> dict:
    """Planned against actual hours per domain for the teachers of the given teacher plans."""
    planned = dict(
        PlannedHours.objects.filter(plan__in=plans).values_list("domain").annotate(total=Sum("hours"))
    )
    actual: dict[str, Decimal] = {}
    issued = IssuedHours.objects.in_year(year).filter(person_id__in=plans.values("person_id"))
    issued = issued.values_list("course__domain")
    for domain, total in issued.annotate(total=Sum("hours")):
        key = domain if domain in Domain.values else ""
        actual[key] = actual.get(key, Decimal(0)) + total
    rows = [
        {
            "label": str(label),
            "planned": planned.get(code) or Decimal(0),
            "actual": actual.pop(code, Decimal(0)),
        }
        for code, label in Domain.choices
    ]
    leftover = sum(actual.values(), Decimal(0))
    if leftover:
        rows.append({"label": UNCLASSIFIED, "planned": Decimal(0), "actual": leftover})
    return {
        "teachers": plans.count(),
        "rows": rows,
        "planned_total": sum((row["planned"] for row in rows), Decimal(0)),
        "actual_total": sum((row["actual"] for row in rows), Decimal(0)),
    }


def school_hours(*, year: int, school_id: int) -> dict:
    return hours_by_domain(year=year, plans=TeacherPlan.objects.filter(year=year, school_id=school_id))


def authority_hours(*, year: int, authority_id: int) -> dict:
    return hours_by_domain(
        year=year, plans=TeacherPlan.objects.filter(year=year, school__authority_id=authority_id)
    )


def school_rows(*, year: int, schools) -> list[dict]:
    """One row per school: its plan (submitted or not), its teacher plans and their hours."""
    plans = {
        plan.school_id: plan
        for plan in SchoolPlan.objects.filter(year=year, school__in=schools).only(
            "pk", "school_id", "submitted_at"
        )
    }
    teacher = {
        row["school_id"]: row
        for row in TeacherPlan.objects.filter(year=year, school__in=schools)
        .values("school_id")
        .annotate(
            plans=Count("pk", distinct=True),
            submitted=Count("pk", filter=Q(submitted_at__isnull=False), distinct=True),
            planned=Sum("planned_hours__hours"),
        )
    }
    return [
        {
            "school": school,
            "plan": plans.get(school.pk),
            "teacher_plans": teacher.get(school.pk, {}).get("plans", 0),
            "teacher_submitted": teacher.get(school.pk, {}).get("submitted", 0),
            "planned": teacher.get(school.pk, {}).get("planned") or Decimal(0),
        }
        for school in schools
    ]
