"""Demo data for `make demo` and the browser tests: a small county (屏東縣) with one account per role.

Idempotent: running it again changes nothing. The sign-in names, the password and the TOTP secret
are written in the README.
"""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils import timezone

from accounts import national_id
from accounts.models import (
    BusinessAccount,
    BusinessAccountStatus,
    BusinessAccountType,
    Person,
    Stage,
    Unit,
    UnitKind,
    User,
)
from accounts.services import business_account_apply
from core.roc import academic_year
from courses import certificates
from courses.choices import Admission, Domain
from courses.models import (
    AudienceStage,
    Certificate,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    HoursSource,
    IssuedHours,
    Tag,
)
from planning.models import PlanKind, PlanningCycle, PlanningWindow
from planning.services import roster_snapshot_take
from teachers.models import AccountStatus, Category, EndReason, Membership, Subject, TeacherAccount
from teachers.subject_lists import ensure_reference_subjects

DEMO_PASSWORD = "inservice-demo"
# Base32; every demo business account uses it, so a demo user can compute the code (README).
DEMO_TOTP_SECRET = "INSERVICEDEMOTOTPSECRETABCDEFGHI"
COUNTY_CODE = "10013"  # 屏東縣
OPERATOR_CODE = "OP0001"

SCHOOLS = (
    ("134601", "屏東縣立示範國民小學", Stage.PRIMARY),
    ("133602", "屏東縣立示範國民中學", Stage.JUNIOR),
    ("131303", "屏東縣立示範高級中學", Stage.SENIOR),
    ("134K04", "屏東縣立示範幼兒園", Stage.KINDERGARTEN),
)
MAIN_SCHOOL = "134601"

# (ID prefix without check digit, name, unit code, category, title, start, end)
PEOPLE = (
    ("T12345678", "王大明", MAIN_SCHOOL, Category.TEACHER, "教師", dt.date(2015, 8, 1), None),
    ("T22345671", "陳美玲", MAIN_SCHOOL, Category.TEACHER, "教務主任", dt.date(2010, 8, 1), None),
    ("T12345602", "林志豪", MAIN_SCHOOL, Category.STAFF, "幹事", dt.date(2018, 8, 1), None),
    ("T22345603", "張雅婷", MAIN_SCHOOL, Category.STAFF, "組長", dt.date(2019, 8, 1), None),
    ("T12345604", "李建國", MAIN_SCHOOL, Category.TEACHER, "導師", dt.date(2020, 8, 1), None),
    ("T22345605", "黃淑芬", MAIN_SCHOOL, Category.TEACHER, "教師", dt.date(2021, 8, 1), None),
    ("T12345606", "吳俊傑", "133602", Category.TEACHER, "教師", dt.date(2016, 8, 1), dt.date(2023, 7, 31)),
    ("T12345606", "吳俊傑", MAIN_SCHOOL, Category.TEACHER, "教師", dt.date(2023, 8, 1), None),
    ("T22345607", "周怡君", "133602", Category.TEACHER, "教師", dt.date(2017, 8, 1), None),
    ("T12345608", "鄭文華", "131303", Category.TEACHER, "教師", dt.date(2012, 8, 1), None),
    ("T22345609", "謝佩威", "134K04", Category.TEACHER, "教保員", dt.date(2022, 8, 1), None),
    ("T12345610", "許志明", "131303", Category.TEACHER, "教師", dt.date(2005, 8, 1), dt.date(2024, 1, 31)),
    ("T22345613", "蘇怡萱", MAIN_SCHOOL, Category.TEACHER, "教師", dt.date(2022, 8, 1), None),
    ("T12345614", "歐陽志明", MAIN_SCHOOL, Category.TEACHER, "教師", dt.date(2019, 8, 1), None),
    ("T22345615", "洪佳琪", "133602", Category.TEACHER, "導師", dt.date(2021, 8, 1), None),
    ("T22345611", "蔡宜蓁", COUNTY_CODE, Category.STAFF, "承辦人", dt.date(2019, 2, 1), None),
    ("T12345612", "劉家豪", OPERATOR_CODE, Category.STAFF, "系統管理員", dt.date(2020, 2, 1), None),
)

# Why the ended memberships above ended, in the notice's words (離職/轉校/退休).
END_REASONS = {"T12345606": EndReason.TRANSFERRED, "T12345610": EndReason.RETIRED}
# This semester's 任教科目 of a few teachers, from the stage's reference list.
DEMO_SUBJECTS = {"T12345678": ("國語文", "數學"), "T12345604": ("數學",), "T22345605": ("英語文",)}

# (username, ID prefix, account kind) — "teacher" or a business account (unit code, type).
ACCOUNTS = (
    ("teacher1", "T12345678", None),
    # 謝佩威, 教保員 of the 幼兒園: 研習紀錄 shows the 教保研習 hours against the legal 18.
    ("teacher2", "T22345609", None),
    ("chief1", "T22345671", (MAIN_SCHOOL, BusinessAccountType.CHIEF)),
    ("contact1", "T22345603", (MAIN_SCHOOL, BusinessAccountType.CONTACT)),
    ("clerk1", "T12345602", (MAIN_SCHOOL, BusinessAccountType.CLERK)),
    ("region1", "T22345611", (COUNTY_CODE, BusinessAccountType.CHIEF)),
    ("operator1", "T12345612", (OPERATOR_CODE, BusinessAccountType.CHIEF)),
)


# Pending applications, so that chief1 and region1 have something to enable.
APPLICATIONS = (
    ("applicant1", "T12345604", "李建國", MAIN_SCHOOL, BusinessAccountType.CONTACT),
    ("applicant2", "T22345607", "周怡君", "133602", BusinessAccountType.CHIEF),
)


# A person on the main school's roster with no account and no application: the README names the
# ID and the name for trying 申請教師帳號.
APPLY_DEMO = ("T22345605", "黃淑芬")
# The verification code of teacher1's certificate of the finished course (README: 研習證明查驗).
DEMO_CERTIFICATE_CODE = "DEMQ2345HJKM"
# Enrolment order of the 審核錄取 course (ID prefixes): two admitted, then the waiting list.
REVIEW_ORDER = ("T22345613", "T12345614", "T12345604", "T12345678", "T12345606")
REVIEW_ADMITTED = 2


def _demo_applications(units: dict[str, Unit]) -> None:
    for username, prefix, name, unit_code, account_type in APPLICATIONS:
        if User.objects.filter(username=username).exists():
            continue
        business_account_apply(
            unit=units[unit_code],
            account_type=account_type,
            national_id=demo_national_id(prefix),
            name=name,
            email=f"{username}@demo.inservice.example",
            phone="08-7320415",
            username=username,
            password=DEMO_PASSWORD,
        )


def _demo_courses(units: dict[str, Unit]) -> None:
    """clerk1's courses: one open for enrolment now (so its deletion is refused) and one confirmed."""
    clerk = User.objects.get(username="clerk1")
    school = units[MAIN_SCHOOL]
    today = timezone.localdate()
    now = timezone.now()
    safety, _ = Tag.objects.get_or_create(name="安全教育")
    for code, title, status, start, domain in (
        (
            "DEMO-1130001",
            "校園安全教育研習",
            CourseStatus.OPEN,
            today + dt.timedelta(days=30),
            Domain.LITERACY,
        ),
        (
            "DEMO-1130002",
            "素養導向評量工作坊",
            CourseStatus.CONFIRMED,
            dt.date(2024, 9, 18),
            Domain.CURRICULUM,
        ),
    ):
        course, created = Course.objects.get_or_create(
            code=code,
            defaults={
                "title": title,
                "organiser": school,
                "authority": school.authority,
                "registered_by": clerk,
                "start_date": start,
                "end_date": start,
                "hours": 3,
                "place": "屏東縣立示範國民小學 視聽教室",
                "domain": domain,
                "capacity": 40,
                "enrol_opens_at": now - dt.timedelta(days=1) if status == CourseStatus.OPEN else None,
                "enrol_closes_at": now + dt.timedelta(days=20) if status == CourseStatus.OPEN else None,
                "contact_name": "林志豪",
                "contact_phone": "08-7320415",
                "status": status,
            },
        )
        if created:
            AudienceStage.objects.bulk_create(
                AudienceStage(course=course, stage=stage) for stage in Stage.values
            )
            if domain == Domain.LITERACY:
                course.tags.add(safety)


def _course(
    code, title, school, *, start, status, domain, hours=3, capacity=40, **extra
) -> tuple[Course, bool]:
    clerk = User.objects.get(username="clerk1")
    course, created = Course.objects.get_or_create(
        code=code,
        defaults={
            "title": title,
            "organiser": school,
            "authority": school.authority,
            "registered_by": clerk,
            "start_date": start,
            "end_date": start,
            "hours": hours,
            "place": f"{school.name} 會議室",
            "domain": domain,
            "capacity": capacity,
            "contact_name": "林志豪",
            "contact_phone": "08-7320415",
            "status": status,
            **extra,
        },
    )
    if created:
        AudienceStage.objects.bulk_create(AudienceStage(course=course, stage=stage) for stage in Stage.values)
    return course, created


def _demo_year(units: dict[str, Unit], people: dict[str, Person]) -> None:
    """The year's course work: a 審核錄取 course with a waiting list, a finished course with issued
    hours and teacher1's certificate, and 教保研習 hours of the kindergarten's 教保員."""
    school = units[MAIN_SCHOOL]
    today = timezone.localdate()
    now = timezone.now()

    review, created = _course(
        "DEMO-1150003",
        "閱讀理解教學策略工作坊（審核錄取）",
        school,
        start=today + dt.timedelta(days=21),
        status=CourseStatus.OPEN,
        domain=Domain.CURRICULUM,
        capacity=REVIEW_ADMITTED,
        admission=Admission.REVIEW,
        enrol_opens_at=now - dt.timedelta(days=7),
        enrol_closes_at=now + dt.timedelta(days=14),
        admission_announced_at=now - dt.timedelta(days=1),
    )
    if created:
        for index, prefix in enumerate(REVIEW_ORDER):
            admitted = index < REVIEW_ADMITTED
            Enrolment.objects.create(
                course=review,
                person=people[prefix],
                status=EnrolmentStatus.ADMITTED if admitted else EnrolmentStatus.WAITING,
                applied_at=now - dt.timedelta(days=6, hours=-index),
                admitted_at=now - dt.timedelta(days=1) if admitted else None,
            )

    finished_day = today - dt.timedelta(days=30)
    finished, created = _course(
        "DEMO-1150004",
        "數位學習融入教學研習",
        school,
        start=finished_day,
        status=CourseStatus.CONFIRMED,
        domain=Domain.CURRICULUM,
        enrol_opens_at=now - dt.timedelta(days=60),
        enrol_closes_at=now - dt.timedelta(days=35),
        confirmed_at=now - dt.timedelta(days=29),
    )
    if created:
        for prefix, hours in (("T12345678", 3), ("T22345671", 3), ("T12345604", 2)):
            Enrolment.objects.create(
                course=finished,
                person=people[prefix],
                status=EnrolmentStatus.ADMITTED,
                applied_at=now - dt.timedelta(days=50),
                admitted_at=now - dt.timedelta(days=50),
                attended_hours=hours,
            )
            IssuedHours.objects.create(
                person=people[prefix],
                course=finished,
                date=finished_day,
                hours=hours,
                source=HoursSource.COURSE,
            )
    if not Certificate.objects.filter(code=DEMO_CERTIFICATE_CODE).exists():
        teacher = User.objects.get(username="teacher1")
        issued = certificates.certificate_issue(actor=teacher, course=finished)
        Certificate.objects.filter(pk=issued.pk).update(code=DEMO_CERTIFICATE_CODE)

    kindergarten = units["134K04"]
    tags = {
        name: Tag.objects.get_or_create(name=name)[0] for name in ("幼兒園教保專業知能", "基本救命術訓練")
    }
    for code, title, tag, days_ago, hours in (
        ("DEMO-1150005", "幼兒園教保專業知能研習：幼兒觀察與紀錄", "幼兒園教保專業知能", 45, 6),
        ("DEMO-1150006", "基本救命術訓練（CPR＋AED）", "基本救命術訓練", 20, 4),
    ):
        day = today - dt.timedelta(days=days_ago)
        course, created = _course(
            code,
            title,
            kindergarten,
            start=day,
            status=CourseStatus.CONFIRMED,
            domain=Domain.LITERACY,
            hours=hours,
        )
        if created:
            course.tags.add(tags[tag])
            person = people["T22345609"]
            Enrolment.objects.create(
                course=course,
                person=person,
                status=EnrolmentStatus.ADMITTED,
                applied_at=now - dt.timedelta(days=days_ago + 20),
                admitted_at=now - dt.timedelta(days=days_ago + 20),
                attended_hours=hours,
            )
            IssuedHours.objects.create(person=person, course=course, date=day, hours=hours)


def _demo_planning() -> None:
    """A planning cycle for the current academic year with every window open now (so the plans are
    usable in the demo), its cut-off yesterday and the roster snapshot taken."""
    today = timezone.localdate()
    cycle, _ = PlanningCycle.objects.get_or_create(
        year=academic_year(today), defaults={"roster_cutoff": timezone.now() - dt.timedelta(days=1)}
    )
    for authority in Unit.objects.authorities():
        for kind in PlanKind.values:
            PlanningWindow.objects.get_or_create(
                cycle=cycle,
                kind=kind,
                authority=authority,
                defaults={
                    "first_day": today - dt.timedelta(days=3),
                    "last_day": today + dt.timedelta(days=30),
                },
            )
    if cycle.roster_cutoff <= timezone.now():
        roster_snapshot_take(cycle_id=cycle.pk)


def demo_national_id(prefix: str) -> str:
    return national_id.with_check_digit(prefix)


@transaction.atomic
def build_demo() -> dict[str, int]:
    county, _ = Unit.objects.get_or_create(
        code=COUNTY_CODE, defaults={"name": "屏東縣", "kind": UnitKind.AUTHORITY}
    )
    Unit.objects.get_or_create(code=OPERATOR_CODE, defaults={"name": "教師進修網", "kind": UnitKind.OPERATOR})
    Unit.objects.get_or_create(code="0013", defaults={"name": "國立示範大學", "kind": UnitKind.UNIVERSITY})
    for code, name, stage in SCHOOLS:
        Unit.objects.get_or_create(
            code=code, defaults={"name": name, "kind": UnitKind.SCHOOL, "stage": stage, "authority": county}
        )
    units = {unit.code: unit for unit in Unit.objects.all()}
    ensure_reference_subjects()

    people: dict[str, Person] = {}
    for prefix, name, unit_code, category, title, start, end in PEOPLE:
        nid = demo_national_id(prefix)
        person = Person.objects.by_national_id(nid).first()
        if person is None:
            person = Person(name=name, email=f"{prefix.lower()}@demo.inservice.example")
            person.set_national_id(nid)
            person.save()
        people[prefix] = person
        membership, created = Membership.objects.get_or_create(
            person=person,
            unit=units[unit_code],
            start_date=start,
            defaults={
                "category": category,
                "title": title,
                "end_date": end,
                "end_reason": END_REASONS[prefix] if end else None,
                "source": "示範資料",
            },
        )
        if created and end is None and prefix in DEMO_SUBJECTS:
            membership.subjects.set(Subject.objects.filter(name__in=DEMO_SUBJECTS[prefix]))
        if end is None and person.email_unit_id is None:
            # The school the person serves at wrote the address: it is trusted (teachers.trust).
            person.email_unit = units[unit_code]
            person.save(update_fields=["email_unit"])

    for username, prefix, business in ACCOUNTS:
        person = people[prefix]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, email=f"{username}@demo.inservice.example")
            user.set_password(DEMO_PASSWORD)
            user.person = person
            user.is_staff = username == "operator1"
            user.save()
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        if business is None:
            # A teacher's sign-in is their one teacher account (帳號狀況 啟用中).
            TeacherAccount.objects.get_or_create(
                person=person,
                defaults={"user": user, "status": AccountStatus.ACTIVE, "enabled_at": timezone.now()},
            )
        if business is not None:
            unit_code, account_type = business
            BusinessAccount.objects.get_or_create(
                user=user,
                defaults={
                    "person": person,
                    "unit": units[unit_code],
                    "type": account_type,
                    "status": BusinessAccountStatus.ACTIVE,
                    "phone": "08-7320415",
                    "username": username,
                    "enabled_at": timezone.now(),
                },
            )
            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(user, DEMO_TOTP_SECRET)
    _demo_applications(units)
    _demo_courses(units)
    _demo_year(units, people)
    _demo_planning()
    return {
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "memberships": Membership.objects.count(),
        "accounts": User.objects.count(),
    }
