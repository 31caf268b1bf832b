"""Reads of the planning service, scoped to the actor (SPEC §6, §9)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts import permissions
from accounts.models import Unit, UnitKind
from accounts.permissions import Perm
from courses.models import Course, CourseStatus, IssuedHours
from planning import clock, fill_rates, statistics
from planning.choices import Domain
from planning.fill_rates import FillRate
from planning.models import (
    Announcement,
    PlanKind,
    PlanningCycle,
    PlanningWindow,
    SchoolPlan,
    SnapshotEntry,
    SurveyResponse,
    TeacherPlan,
)
from planning.services import READ_SCHOOL_PLAN, current_cycle, school_in_scope, teacher_school
from planning.windows import open_windows, window_for

# The school plans of the units in the reader's scope; the services read the same rule for 退回修改.


@dataclass(frozen=True)
class WindowState:
    window: PlanningWindow | None
    at: dt.datetime

    @property
    def is_open(self) -> bool:
        return self.window is not None and self.window.contains(self.at)

    @property
    def not_yet(self) -> bool:
        return self.window is not None and self.at < self.window.opens_at

    @property
    def opens_at(self):
        return self.window.opens_at if self.window else None

    @property
    def closes_at(self):
        return self.window.closes_at if self.window else None


def window_state(cycle: PlanningCycle, kind: PlanKind, authority_id: int | None) -> WindowState:
    window = window_for(year=cycle.year, kind=kind, authority_id=authority_id) if authority_id else None
    return WindowState(window, clock.now())


def school_plan(school: Unit, year: int) -> SchoolPlan | None:
    return SchoolPlan.objects.filter(school=school, year=year).prefetch_related("answers").first()


def teacher_plan(person_id: int, year: int) -> TeacherPlan | None:
    return (
        TeacherPlan.objects.filter(person_id=person_id, year=year)
        .prefetch_related("answers", "planned_hours")
        .first()
    )


def snapshot_list(cycle: PlanningCycle, school: Unit) -> list[SnapshotEntry]:
    """The school's 教師名單 at the cut-off, each marked whether their own plan is submitted."""
    submitted = set(
        TeacherPlan.objects.filter(year=cycle.year, submitted_at__isnull=False)
        .filter(
            person_id__in=SnapshotEntry.objects.filter(snapshot__cycle=cycle, school=school).values(
                "person_id"
            )
        )
        .values_list("person_id", flat=True)
    )
    entries = list(
        SnapshotEntry.objects.filter(snapshot__cycle=cycle, school=school).order_by("category", "name")
    )
    for entry in entries:
        entry.plan_submitted = entry.person_id in submitted
    return entries


def school_plan_visible_to(actor, pk: int) -> SchoolPlan | None:
    """A school plan the actor may read: own school, a centre's schools, the operator, the school's teachers."""
    plans = SchoolPlan.objects.select_related("school", "school__authority").prefetch_related("answers")
    if permissions.has_perm(actor, Perm.SCHOOL_PLAN_READ):
        scope = READ_SCHOOL_PLAN.q(actor)
    elif permissions.has_perm(actor, Perm.TEACHER_PLAN):
        cycle = current_cycle()
        school = teacher_school(actor.person, timezone.localtime(clock.now()).date()) if cycle else None
        scope = Q(school=school) if school else Q(pk__in=[])
    else:
        return None
    return plans.filter(scope).filter(pk=pk).first()


def authority_to_read(actor, code: str = "") -> tuple[Unit | None, QuerySet[Unit] | None]:
    """所屬學校規劃彙整: the authority whose schools the actor reads, and the authorities to choose
    from (the operator's: every one, the chosen code or the first; a centre's: its own, no choice)."""
    scope = permissions.unit_scope(actor)
    if not scope.everything:
        return scope.unit, None
    authorities = Unit.objects.authorities().order_by("code")
    return (authorities.filter(code=code).first() if code else authorities.first()), authorities


def plan_to_reopen(kind: PlanKind, pk: int) -> SchoolPlan | TeacherPlan | None:
    """The plan 退回修改 opens on, or None; who may see it and reopen it is
    `services.plan_reopen_allowed`'s rule (404 unseen, 403 seen but not theirs to reopen)."""
    model = SchoolPlan if kind == PlanKind.SCHOOL else TeacherPlan
    return model.objects.select_related("school").filter(pk=pk).first()


def opens_teacher_plan(user) -> bool:
    """Whether 教師自我進修規劃 opens for the user, by the view's own test: before any cycle (the page
    says so), or for a teacher serving today at a school inside the cycle's scope (not 幼兒園, not
    行政職員). The menu offers the entry only then (issue 19 point 6)."""
    cycle = current_cycle()
    if cycle is None:
        return True
    today = timezone.localtime(clock.now()).date()
    return teacher_school(getattr(user, "person", None), today) is not None


def opens_school_plan(user) -> bool:
    """Whether 學校本位進修規劃 opens for the user's unit, by the view's own test (a 幼兒園 is outside)."""
    cycle = current_cycle()
    return cycle is None or school_in_scope(permissions.unit_of(user))


def home_windows(user) -> list[PlanningWindow]:
    """What is open now for the user's role, and until when (the home page)."""
    at = clock.now()
    if permissions.has_perm(user, Perm.FILL_RATES):
        # Those who follow the filling-in (填報率) see the open windows of the authorities in scope.
        scope = permissions.unit_scope(user)
        return [w for w in open_windows(at=at) if scope.contains_id(w.authority_id)]
    cycle = current_cycle(at)
    if cycle is None:
        return []
    unit = permissions.unit_of(user)
    if permissions.has_perm(user, Perm.SCHOOL_PLAN) and school_in_scope(unit):
        return [w for w in open_windows(at=at, kind=PlanKind.SCHOOL) if w.authority_id == unit.authority_id]
    if permissions.has_perm(user, Perm.TEACHER_PLAN):
        school = teacher_school(user.person, timezone.localtime(at).date())
        if school:
            return [
                w for w in open_windows(at=at, kind=PlanKind.TEACHER) if w.authority_id == school.authority_id
            ]
    return []


def announcements_for(user, limit: int | None = None):
    """The operator's announcements for everyone; an authority's for its own schools and their teachers."""
    unit = permissions.unit_of(user)
    published = Q(published_on__lte=timezone.localdate())
    if unit is not None and permissions.has_perm(user, Perm.ANNOUNCE):
        published |= Q(unit=unit)  # the author's unit sees its scheduled items (shown as 排程中)
    items = Announcement.objects.filter(published).select_related("unit")
    if not permissions.unit_scope(user).everything:
        # Besides the operator's items, those of the authority the reader's unit (or school) is under.
        authority_id = None
        if unit is not None:
            authority_id = unit.pk if unit.kind == UnitKind.AUTHORITY else unit.authority_id
        elif permissions.has_perm(user, Perm.TEACHER_PLAN):
            cycle = current_cycle()
            school = teacher_school(user.person, timezone.localtime(clock.now()).date()) if cycle else None
            authority_id = school.authority_id if school else None
        items = items.filter(Q(unit__kind=UnitKind.OPERATOR) | Q(unit_id=authority_id))
    return items[:limit] if limit else items


def own_announcements(user):
    """最新消息管理: every item of the user's unit, scheduled ones included."""
    unit = permissions.unit_of(user)
    return (
        Announcement.objects.filter(unit=unit).select_related("unit") if unit else Announcement.objects.none()
    )


def open_window_announcements():
    """The windows open now, grouped by kind and dates: announced by themselves from the cycle data."""
    groups: dict[tuple, list[str]] = {}
    for window in open_windows(at=clock.now()):
        key = (window.kind, window.get_kind_display(), window.cycle.year, window.opens_at, window.closes_at)
        groups.setdefault(key, []).append(window.authority.name)
    return [
        {"kind": k[1], "year": k[2], "opens_at": k[3], "closes_at": k[4], "authorities": "、".join(names)}
        for k, names in sorted(groups.items(), key=lambda item: (item[0][3], item[0][0]))
    ]


def hours_progress(person_id: int, year: int, plan: TeacherPlan | None) -> list[dict]:
    """Planned against actual hours per domain for the academic year so far (from issued hours)."""
    planned = {row.domain: row.hours for row in plan.planned_hours.all()} if plan else {}
    issued = IssuedHours.objects.in_year(year).filter(person_id=person_id)
    actual: dict[str, object] = {}
    for domain, total in issued.values_list("course__domain").annotate(total=Sum("hours")):
        # Imported courses may carry no domain: their hours show as 未分類.
        actual[domain or ""] = actual.get(domain or "", 0) + total
    rows = [
        {"label": label, "planned": planned.get(code, 0), "actual": actual.pop(code, 0)}
        for code, label in Domain.choices
    ]
    leftover = sum(actual.values()) if actual else 0
    if leftover:
        rows.append({"label": "未分類", "planned": 0, "actual": leftover})
    return rows


def suggested_courses(plan: TeacherPlan | None, authority_id: int | None, limit: int = 5):
    """Courses open for enrolment now, by the teacher's authority or national (under no authority),
    matching the plan's domains (when courses carry one); each has a page to link to."""
    now = clock.now()
    courses = Course.objects.filter(
        Q(authority_id=authority_id) | Q(authority__isnull=True),
        status=CourseStatus.OPEN,
        enrol_opens_at__lte=now,
        enrol_closes_at__gt=now,
        code__isnull=False,
    )
    if plan is not None:
        domains = [row.domain for row in plan.planned_hours.all() if row.hours] or [
            answer.option for answer in plan.answers.all() if answer.question == "domain"
        ]
        if domains:
            courses = courses.filter(domain__in=domains)
    return list(courses.select_related("organiser").order_by("enrol_closes_at", "code")[:limit])


def teacher_snapshot(cycle: PlanningCycle, person_id: int) -> SnapshotEntry | None:
    """教師資料 of the notice: the teacher as the roster stood at the cycle's cut-off."""
    return (
        SnapshotEntry.objects.filter(snapshot__cycle=cycle, person_id=person_id)
        .select_related("school")
        .first()
    )


def survey_summary(year: int) -> list[dict]:
    """滿意度問卷 results for the operator: answers and average scores per kind of plan."""
    rows = (
        SurveyResponse.objects.filter(year=year)
        .values("kind")
        .annotate(n=Count("id"), ease=Avg("ease"), usefulness=Avg("usefulness"))
        .order_by("kind")
    )
    labels = dict(PlanKind.choices)
    return [
        {
            "kind": labels[row["kind"]],
            "n": row["n"],
            "ease": f"{row['ease']:.2f}",
            "usefulness": f"{row['usefulness']:.2f}",
        }
        for row in rows
    ]


def reader_authority(user) -> Unit | None:
    """The authority whose windows a reader of the 說明手冊 follows: a centre's own, a school
    account's school's, a teacher's serving school's (today); None for the operator and the public."""
    unit = permissions.unit_of(user)
    if unit is not None:
        if unit.kind == UnitKind.AUTHORITY:
            return unit
        return unit.authority if unit.authority_id else None
    if permissions.has_perm(user, Perm.TEACHER_PLAN):
        cycle = current_cycle()
        school = teacher_school(user.person, timezone.localtime(clock.now()).date()) if cycle else None
        return school.authority if school else None
    return None


def guide_windows(user) -> tuple[PlanningCycle | None, Unit | None, list[PlanningWindow]]:
    """The current cycle, the reader's authority and its windows (school plan first)."""
    cycle = current_cycle()
    authority = reader_authority(user)
    if cycle is None or authority is None:
        return cycle, authority, []
    windows = list(cycle.windows.filter(authority=authority).order_by("-kind", "first_day"))
    windows.sort(key=lambda w: w.kind != PlanKind.SCHOOL)
    return cycle, authority, windows


# ---------------------------------------------------------------- 填報率 and 統計專區

FILL_SORTS = ("code", "name", "school_rate", "teacher_rate")


def cycle_of_year(year: str | int | None) -> PlanningCycle | None:
    """The cycle of the year typed in a query string or form (digits only), else None."""
    text = str(year or "")
    return PlanningCycle.objects.filter(year=int(text)).first() if text.isdigit() else None


def _fill_rate_sum(rates) -> FillRate:
    return FillRate(0, sum(r.submitted for r in rates), sum(r.total for r in rates))


def _authority_rows(school_rates, teacher_rates) -> list[dict]:
    rows = []
    for authority in Unit.objects.authorities().order_by("code"):
        s, t = school_rates[authority.pk], teacher_rates[authority.pk]
        rows.append(
            {
                "code": authority.code,
                "name": authority.name,
                "school_submitted": s.submitted,
                "school_total": s.total,
                "school_rate": s.rate,
                "teacher_submitted": t.submitted,
                "teacher_total": t.total,
                "teacher_rate": t.rate,
            }
        )
    return rows


def _school_rows(authority: Unit, year: int) -> list[dict]:
    counted = fill_rates.school_plans_submitted_in_window(year=year)
    by_school = fill_rates.teacher_plan_fill_rates_by_school(year=year, authority_id=authority.pk)
    plan_ids = dict(
        SchoolPlan.objects.filter(year=year, school__authority=authority).values_list("school_id", "pk")
    )
    rows = []
    for school in authority.units.in_planning_scope().order_by("code"):
        t = by_school.get(school.pk)
        rows.append(
            {
                "code": school.code,
                "name": school.name,
                "stage": school.stage,
                "school_rate": 1 if school.pk in counted else 0,
                "school_submitted": school.pk in counted,
                "plan_id": plan_ids.get(school.pk),
                "teacher_submitted": t.submitted if t else 0,
                "teacher_total": t.total if t else 0,
                "teacher_rate": t.rate if t else None,
            }
        )
    return rows


def fill_rate_report(actor, cycle: PlanningCycle, *, sort: str = "code", descending: bool = False) -> dict:
    """填報率 as the actor may read it: the operator (every unit in scope) a row per authority, the
    survey results and the national figures; a centre a row per in-scope school of its authority and
    the authority's figures. Rows sorted by `sort` (one of FILL_SORTS, else code); a missing rate sorts
    lowest."""
    scope = permissions.unit_scope(actor)
    school_rates = fill_rates.school_plan_fill_rates(year=cycle.year)
    teacher_rates = fill_rates.teacher_plan_fill_rates(year=cycle.year)
    report: dict = {"cycle": cycle, "national": scope.everything}
    if scope.everything:
        rows = _authority_rows(school_rates, teacher_rates)
        report["national_school"] = _fill_rate_sum(school_rates.values())
        report["national_teacher"] = _fill_rate_sum(teacher_rates.values())
        report["surveys"] = survey_summary(cycle.year)
    else:
        authority = scope.unit
        rows = _school_rows(authority, cycle.year)
        report["authority"] = authority
        report["summary_school"] = school_rates[authority.pk]
        report["summary_teacher"] = teacher_rates[authority.pk]
    sort = sort if sort in FILL_SORTS else "code"
    rows.sort(
        key=lambda row: (-1.0 if row[sort] is None else row[sort]) if sort.endswith("rate") else row[sort],
        reverse=descending,
    )
    report.update(rows=rows, sort=sort, descending=descending)
    return report


def statistics_cycles(actor) -> dict:
    """統計專區's cycles: the published ones for everyone and, for whoever may publish, every cycle
    with its publication (to publish or withdraw)."""
    cycles = list(statistics.published_cycles())
    may_publish = permissions.has_perm(actor, Perm.STATISTICS_PUBLISH)
    result: dict = {"cycles": cycles, "may_publish": may_publish}
    if may_publish:
        result["all_cycles"] = PlanningCycle.objects.select_related("publication").order_by("-year")
    return result


# 進修規劃年度 (the operator's cycle pages): what planning/cycle_views.py shows.


def cycles_with_window_counts() -> QuerySet[PlanningCycle]:
    """Every cycle, newest first, each with `window_count` (its 填報期程)."""
    return PlanningCycle.objects.annotate(window_count=Count("windows")).order_by("-year")


def cycle_window_count(cycle: PlanningCycle) -> int:
    return cycle.windows.count()


def cycle_windows_by_kind(cycle: PlanningCycle) -> list[tuple[str, list[PlanningWindow]]]:
    """The cycle's windows grouped by kind (school plans, then teacher plans), each by first day
    and authority code."""
    windows = list(cycle.windows.select_related("authority").order_by("kind", "first_day", "authority__code"))
    return [
        (label, [window for window in windows if window.kind == kind]) for kind, label in PlanKind.choices
    ]


def window_with_cycle(pk: int) -> PlanningWindow | None:
    return PlanningWindow.objects.select_related("cycle", "authority").filter(pk=pk).first()
