"""統計專區: aggregated needs by authority × stage × option (SPEC §6), frozen when published."""

from __future__ import annotations

from django.db.models import Count

from accounts.models import Unit
from core.replica import read_alias
from planning.choices import OPTIONS, Question
from planning.models import NeedCount, PlanningCycle, StatisticsPublication, TeacherPlanAnswer


def count_needs(publication: StatisticsPublication) -> int:
    """Write the publication's counts from the submitted teacher plans of its cycle (one query + insert)."""
    NeedCount.objects.filter(publication=publication).delete()
    rows = (
        TeacherPlanAnswer.objects.filter(
            plan__year=publication.cycle.year, plan__submitted_at__isnull=False, plan__school__isnull=False
        )
        .values_list("plan__school__authority_id", "plan__school__stage", "question", "option")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = [
        NeedCount(publication=publication, authority_id=a, stage=s, question=q, option=o, plans=n)
        for a, s, q, o, n in rows
    ]
    NeedCount.objects.bulk_create(counts, batch_size=2000)
    return len(counts)


def published_cycles():
    # 統計專區 is read-only and public: the read replica when it is usable (core.replica).
    return (
        PlanningCycle.objects.using(read_alias())
        .filter(publication__isnull=False)
        .select_related("publication")
    )


def needs_table(cycle: PlanningCycle, question: str) -> dict:
    """One question of a published cycle: a row per authority × stage, a column per option, and totals."""
    options = OPTIONS[question]
    alias = read_alias()  # a read-only public page (core.replica)
    counts = (
        NeedCount.objects.using(alias)
        .filter(publication__cycle=cycle, question=question)
        .values_list("authority_id", "stage", "option", "plans")
    )
    cells: dict[tuple[int, str], dict[str, int]] = {}
    totals = {code: 0 for code, _label in options}
    for authority_id, stage, option, plans in counts:
        cells.setdefault((authority_id, stage), {})[option] = plans
        totals[option] = totals.get(option, 0) + plans
    names = dict(Unit.objects.using(alias).filter(pk__in={a for a, _s in cells}).values_list("pk", "name"))
    codes = dict(Unit.objects.using(alias).filter(pk__in={a for a, _s in cells}).values_list("pk", "code"))
    rows = [
        {
            "authority": names[a],
            "authority_code": codes[a],
            "stage": s,
            "values": [cells[(a, s)].get(code, 0) for code, _label in options],
        }
        for a, s in sorted(cells, key=lambda key: (codes[key[0]], key[1]))
    ]
    return {
        "question": question,
        "question_label": str(Question(question).label),
        "labels": [str(label) for _code, label in options],
        "codes": [code for code, _label in options],
        "rows": rows,
        "totals": [totals[code] for code, _label in options],
    }
