"""Reads of courses, scoped to what the actor may see, with a fixed number of queries."""

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.permissions import Perm, ScopedPerm
from core.replica import read_alias
from courses.models import (
    ACTIVE_ENROLMENT,
    AdmissionSkip,
    AttendanceUpload,
    CorrectionStatus,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    HoursCorrection,
    IssuedHours,
)
from teachers.models import Membership

ADMITTED_COUNT = Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.ADMITTED))

# Each rule once, read as a queryset filter (the lists below) and as a predicate (the services):
# 研習課程管理 is the course's own unit; 核定研習時數更正 the course's authority, or the operator.
MANAGE_COURSE = ScopedPerm(Perm.COURSE_MANAGE, "organiser")
APPROVE_CORRECTION = ScopedPerm(Perm.HOURS_CORRECTION_APPROVE, "authority")


def public_courses() -> QuerySet[Course]:
    """Every course with a public code past 登錄中 (the search and the course pages)."""
    return (
        Course.objects.exclude(status=CourseStatus.REGISTERING)
        .exclude(code__isnull=True)
        .select_related("organiser", "authority")
        .prefetch_related("tags")
        .order_by("-start_date", "code")
    )


def search_page_courses() -> QuerySet[Course]:
    """研習課程查詢's courses: a read-only public page, from the read replica when it is usable."""
    return public_courses().using(read_alias())


def open_now(queryset: QuerySet[Course]) -> QuerySet[Course]:
    now = timezone.now()
    return queryset.filter(status=CourseStatus.OPEN, enrol_opens_at__lte=now, enrol_closes_at__gt=now)


def public_course(code: str) -> Course | None:
    return (
        public_courses()
        .prefetch_related("audience_stages", "audience_authorities")
        .annotate(admitted_count=ADMITTED_COUNT)
        .filter(code=code)
        .first()
    )


def course_page(code: str) -> Course | None:
    """The course's public page (read-only): from the read replica when it is usable. Enrolling,
    cancelling and every other action read public_course() from the primary."""
    return (
        public_courses()
        .using(read_alias())
        .prefetch_related("audience_stages", "audience_authorities")
        .annotate(admitted_count=ADMITTED_COUNT)
        .filter(code=code)
        .first()
    )


def own_enrolment(user, course: Course) -> Enrolment | None:
    if not getattr(user, "is_authenticated", False) or not user.person_id:
        return None
    return Enrolment.objects.filter(course=course, person_id=user.person_id).first()


def waiting_position(enrolment: Enrolment) -> int:
    """1 for the first on the course's waiting list (enrolment order)."""
    return (
        Enrolment.objects.filter(course_id=enrolment.course_id, status=EnrolmentStatus.WAITING)
        .filter(
            Q(applied_at__lt=enrolment.applied_at) | Q(applied_at=enrolment.applied_at, pk__lt=enrolment.pk)
        )
        .count()
        + 1
    )


def enrolments_of(person) -> list[Enrolment]:
    """我的研習報名: every enrolment of the person, newest course first; a waiting one carries
    `waiting_position` (1 = next to move up). Two queries."""
    rows = list(
        Enrolment.objects.filter(person=person)
        .select_related("course", "course__organiser")
        .order_by("-course__start_date", "-applied_at", "-pk")
    )
    waiting = [row for row in rows if row.status == EnrolmentStatus.WAITING]
    queues: dict[int, list[int]] = {}
    for course_id, pk in (
        Enrolment.objects.filter(
            course_id__in={row.course_id for row in waiting}, status=EnrolmentStatus.WAITING
        )
        .order_by("course_id", "applied_at", "pk")
        .values_list("course_id", "pk")
    ):
        queues.setdefault(course_id, []).append(pk)
    for row in rows:
        row.waiting_position = (
            queues[row.course_id].index(row.pk) + 1 if row.status == EnrolmentStatus.WAITING else None
        )
    return rows


def has_calendar(enrolment: Enrolment) -> bool:
    """An admitted course with a first day has an iCalendar event (我的研習報名's link)."""
    return enrolment.status == EnrolmentStatus.ADMITTED and enrolment.course.start_date is not None


def own_calendar_enrolment(user, number: str) -> Enrolment | None:
    """The signed-in teacher's own admitted enrolment with that 報名序號 and a first day, or None."""
    return (
        Enrolment.objects.select_related("course", "course__organiser")
        .filter(
            number=number,
            person_id=user.person_id,
            status=EnrolmentStatus.ADMITTED,
            course__start_date__isnull=False,
        )
        .first()
    )


def courses_with_hours_of(person) -> QuerySet[Course]:
    """The courses with hours issued to the person (研習證明 of one course)."""
    return Course.objects.filter(issued_hours__person=person).distinct()


def courses_managed_by(actor) -> QuerySet[Course]:
    """The courses of the actor's own unit (研習課程管理); none for anyone else."""
    return (
        Course.objects.filter(MANAGE_COURSE.q(actor))
        .select_related("organiser", "authority", "registered_by")
        .prefetch_related("tags", "audience_stages", "audience_authorities")
        .annotate(
            admitted_count=ADMITTED_COUNT,
            waiting_count=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.WAITING)),
            applied_count=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.APPLIED)),
        )
        .order_by("-created_at")
    )


def uploads_of(course: Course) -> QuerySet[AttendanceUpload]:
    """The course's attendance uploads without their files (the status pages)."""
    return AttendanceUpload.objects.defer("content").filter(course=course)


def recent_uploads(course: Course, count: int = 5) -> list[AttendanceUpload]:
    return list(uploads_of(course).order_by("-created_at", "-pk")[:count])


def admission_skips(course: Course, count: int = 20) -> list[AdmissionSkip]:
    """The recorded reasons for passing over an earlier enrolee (審核錄取), newest first."""
    return list(course.admission_skips.select_related("skipped__person")[:count])


def enrolments_with_person(course: Course) -> QuerySet[Enrolment]:
    return course.enrolments.select_related("person")


def participants(course: Course, statuses=ACTIVE_ENROLMENT) -> QuerySet[Enrolment]:
    """The course's enrolments still in play (admitted, waiting, applied), in queue order;
    `statuses=None`: every enrolment (the 報到 page answers 未錄取 for the others too)."""
    rows = course.enrolments.all() if statuses is None else course.enrolments.filter(status__in=statuses)
    return rows.select_related("person").order_by("status", "applied_at", "pk")


def participants_with_school(course: Course, statuses=ACTIVE_ENROLMENT):
    """(enrolment, the name of the unit the person serves at now, or "") in queue order: two queries."""
    rows = list(participants(course, statuses))
    schools: dict[int, str] = {}
    for person_id, name in (
        Membership.objects.current()
        .filter(person_id__in=[row.person_id for row in rows])
        .order_by("person_id", "-start_date", "-pk")
        .values_list("person_id", "unit__name")
    ):
        schools.setdefault(person_id, name)
    return [(row, schools.get(row.person_id, "")) for row in rows]


def corrections_for_approver(actor) -> QuerySet[HoursCorrection]:
    """Corrections the actor decides: the operator all, a centre those of its authority's courses."""
    return (
        HoursCorrection.objects.filter(APPROVE_CORRECTION.q(actor, prefix="course__"))
        .select_related("course", "person", "requested_by", "decided_by")
        .order_by("status", "-requested_at")
    )


def pending_corrections_for_approver(actor) -> QuerySet[HoursCorrection]:
    """What waits for the actor under 研習時數更正核定 (the number in the menu)."""
    return corrections_for_approver(actor).filter(status=CorrectionStatus.PENDING)


def pending_corrections(course: Course) -> QuerySet[HoursCorrection]:
    return course.corrections.filter(status=CorrectionStatus.PENDING).select_related("person")


def courses_unconfirmed_registered_by(user) -> QuerySet[Course]:
    """Courses a business account registered that are still unfinished.

    名單確認通過 is finished; so is 已取消, which can never be confirmed and leaves nothing to do.
    """
    return (
        Course.objects.filter(registered_by=user)
        .exclude(status__in=(CourseStatus.CONFIRMED, CourseStatus.CANCELLED))
        .order_by("code", "pk")
    )


def describe_unconfirmed_courses(account) -> list[str]:
    """Deletion guard for business accounts (accounts.deletion_guards)."""
    return [
        f"{course.code or '（未編碼）'} {course.title}（{course.get_status_display()}）"
        for course in courses_unconfirmed_registered_by(account.user)
    ]


def issued_hours_in_year(person_field: str, year: int):
    """Hours issued to the person of the outer row's `person_field` in academic year `year` (the
    teachers.hours hook: the roster's 依教育部統合視導 filter)."""
    total = (
        IssuedHours.objects.in_year(year)
        .filter(person_id=OuterRef(person_field))
        .order_by()
        .values("person_id")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0, output_field=DecimalField(max_digits=8, decimal_places=1))
