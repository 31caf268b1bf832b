#!/usr/bin/env python
"""Roster benchmark (issue 10, Performance), on PostgreSQL. Run by `make bench`.

1. Creates a fresh database (BENCH_ROSTER_DATABASE_URL, default inservice_roster_bench on
   127.0.0.1), migrates it and builds its own data with bulk inserts: a school of 3,000 people, one
   of 10,000, and surroundings (40 schools of 100, earlier memberships ended with 轉校, teacher
   accounts for 40 %, issued hours this and last academic year, several subjects each).
2. 本單位教師帳號管理 of the 3,000-person school with both filters on (依任教科目 and
   依教育部統合視導): SQL queries per request and the median server time over 30 requests
   (Django's test client in this process: the whole request, middleware and template included).
3. 資料下載 of the 10,000-person school in a child process: time of the request and the
   child's peak resident memory (VmHWM: the whole Django process, not only the download).
4. Prints the figures and appends a dated section to bench/results.md.

Targets: queries ≤ 12 and median ≤ 50 ms; download ≤ 3 s with peak memory ≤ 150 MB.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results.md"
DATABASE_URL = os.environ.get(
    "BENCH_ROSTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inservice_roster_bench"
)
BIG, HUGE = 3_000, 10_000
OTHERS, OTHER_SIZE = 40, 100
REQUESTS = 30
MAX_QUERIES, MAX_MEDIAN_MS = 12, 50
MAX_DOWNLOAD_S, MAX_DOWNLOAD_MB = 3.0, 150
BIG_CODE, HUGE_CODE = "B03000", "B10000"


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
    os.environ.pop("REDIS_URL", None)  # in-process cache and eager tasks: the bench measures the page
    import django

    django.setup()


def fresh_database() -> None:
    import psycopg

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def build() -> dict[str, int]:
    """Bulk inserts only: the ORM's bulk_create in batches (no per-row save, no audit entries)."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts import national_id
    from accounts.models import BusinessAccount, BusinessAccountType, Person, Stage, Unit, UnitKind, User
    from courses.models import Course, IssuedHours
    from teachers.models import AccountStatus, Category, EndReason, Membership, Subject, TeacherAccount

    rng = random.Random(10)
    authority = Unit.objects.get(code="10013")
    with transaction.atomic():
        schools = [
            Unit(code=BIG_CODE, name="基準國民小學（三千人）", kind=UnitKind.SCHOOL, stage=Stage.PRIMARY, authority=authority),
            Unit(code=HUGE_CODE, name="基準國民小學（一萬人）", kind=UnitKind.SCHOOL, stage=Stage.PRIMARY, authority=authority),
        ] + [
            Unit(code=f"B9{n:04d}", name=f"周邊國民小學{n}", kind=UnitKind.SCHOOL, stage=Stage.PRIMARY, authority=authority)
            for n in range(OTHERS)
        ]  # fmt: skip
        schools = Unit.objects.bulk_create(schools)
        sizes = [BIG, HUGE] + [OTHER_SIZE] * OTHERS
        subjects = list(Subject.objects.filter(stages__contains=Stage.PRIMARY))
        people = []
        n = 0
        for size in sizes:
            for _ in range(size):
                nid = national_id.with_check_digit(f"A{1 + n % 2}{n:07d}")
                person = Person(
                    name=f"林{n:05d}明",
                    email=f"t{n}@bench.example",
                    national_id_digest=national_id.digest(nid),
                )
                person.national_id_encrypted = national_id.encrypt(nid)
                people.append(person)
                n += 1
        people = Person.objects.bulk_create(people, batch_size=5000)
        memberships = []
        index = 0
        for school, size in zip(schools, sizes, strict=True):
            for person in people[index : index + size]:
                start = dt.date(2015, 8, 1) + dt.timedelta(days=rng.randrange(3000))
                if rng.random() < 0.1:  # came from another school: an earlier membership ended with 轉校
                    before = schools[2 + rng.randrange(OTHERS)]
                    memberships.append(
                        Membership(person=person, unit=before, start_date=dt.date(2005, 8, 1),
                                   end_date=start - dt.timedelta(days=1), end_reason=EndReason.TRANSFERRED)
                    )  # fmt: skip
                category = Category.STAFF if rng.random() < 0.09 else Category.TEACHER
                memberships.append(
                    Membership(person=person, unit=school, start_date=start, category=category, title="教師")
                )
            index += size
        memberships = Membership.objects.bulk_create(memberships, batch_size=5000)
        through = Membership.subjects.through
        pairs = [
            through(membership_id=m.pk, subject_id=s.pk)
            for m in memberships
            if m.end_date is None and m.category == Category.TEACHER
            for s in rng.sample(subjects, rng.choice((1, 1, 2)))
        ]
        through.objects.bulk_create(pairs, batch_size=10000)
        password = make_password("bench-password")
        with_account = [p for p in people if rng.random() < 0.4]
        users = User.objects.bulk_create(
            [User(username=f"bench{p.pk}", email=f"u{p.pk}@bench.example", password=password, person=p) for p in with_account],
            batch_size=5000,
        )  # fmt: skip
        TeacherAccount.objects.bulk_create(
            [
                TeacherAccount(person_id=u.person_id, user=u, status=AccountStatus.ACTIVE if rng.random() < 0.95 else AccountStatus.DISABLED)
                for u in users
            ],
            batch_size=5000,
        )  # fmt: skip
        courses = Course.objects.bulk_create(
            [Course(code=f"BENCH-{i}", title=f"研習{i}", organiser=schools[0], hours=3) for i in range(200)]
        )
        today = dt.date.today()
        hours = []
        for person in people:
            days = rng.sample(range(1, 300), rng.randrange(0, 9))  # 0–8 courses of 3 hours: around 18
            for course_no, back in enumerate(days):
                day = today - dt.timedelta(days=back)
                hours.append(
                    IssuedHours(
                        person=person, course=courses[(person.pk + course_no) % 200], date=day, hours=3
                    )
                )
        IssuedHours.objects.bulk_create(hours, batch_size=10000)
        chiefs = {}
        for school in schools[:2]:
            person = Person(name=f"{school.code}總負責人", email=f"{school.code}@bench.example")
            person.set_national_id(national_id.with_check_digit(f"B1{school.pk:07d}"))
            person.save()
            user = User.objects.create(
                username=f"chief-{school.code}", email=f"chief-{school.code}@bench.example", person=person
            )
            BusinessAccount.objects.create(user=user, person=person, unit=school, type=BusinessAccountType.CHIEF, status="active", username=user.username)  # fmt: skip
            TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            chiefs[school.code] = user
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "people": len(people),
        "memberships": len(memberships),
        "teacher_accounts": len(users),
        "issued_hours": len(hours),
        "membership_subjects": len(pairs),
    }


def measure_page() -> dict[str, float]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from teachers.models import Subject

    client = Client()
    client.force_login(User.objects.get(username=f"chief-{BIG_CODE}"))
    query = {"supervision": "on", "subject": Subject.objects.get(name="數學").pk}
    for _ in range(3):
        assert client.get("/unit/teachers/", query).status_code == 200
    reset_queries()  # the build filled the debug query log to its limit
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/unit/teachers/", query)
    assert response.status_code == 200
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT")
    data_queries = [q for q in captured.captured_queries if not q["sql"].startswith(control)]
    # The yardstick, same run and signed-in client: the home page.
    home = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        assert client.get("/").status_code == 200
        home.append((time.perf_counter() - started) * 1000)
    times, cpu, sql = [], [], []
    for _ in range(REQUESTS):
        reset_queries()
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get("/unit/teachers/", query)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(sum(float(q["time"]) for q in connection.queries) * 1000)
    from accounts.models import Unit
    from teachers.selectors import filtered_roster

    matched = filtered_roster(
        Unit.objects.get(code=BIG_CODE), subject_id=query["subject"], below_supervision=True
    ).count()
    return {
        "queries": len(captured.captured_queries),
        "data_queries": len(data_queries),
        "median_ms": statistics.median(times),
        "yardstick_ms": statistics.median(home),
        "cpu_ms": statistics.median(cpu),
        "sql_ms": statistics.median(sql),
        "p90_ms": sorted(times)[int(len(times) * 0.9) - 1],
        "matched": matched,
    }


def child_download() -> None:
    """Run in a child process: one 資料下載 of the 10,000-person school; prints seconds and rows."""
    setup_django()
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=f"chief-{HUGE_CODE}"))
    started = time.perf_counter()
    response = client.get("/unit/teachers/download/")
    size = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    from teachers.models import RosterDownload

    # The peak of this process image only: wait4's ru_maxrss would also count the parent's pages
    # the child had before exec (Linux keeps the high-water mark across execve).
    status = Path("/proc/self/status").read_text()
    peak_kb = int(status.split("VmHWM:")[1].split()[0])
    print(f"{elapsed:.3f} {RosterDownload.objects.latest('at').rows} {size} {peak_kb}")


def measure_download() -> dict[str, float]:
    env = dict(os.environ, DATABASE_URL=DATABASE_URL)
    env.pop("REDIS_URL", None)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child-download"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    output = child.stdout.read()
    _pid, status, _usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"download child failed:\n{output}")
    seconds, rows, size, peak_kb = output.split()[-4:]
    return {
        "seconds": float(seconds),
        "rows": int(rows),
        "bytes": int(size),
        "peak_mb": int(peak_kb) / 1024,
        "wall_with_startup": wall,
    }


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> int:
    from import_bench import commit, machine

    reuse = os.environ.get("BENCH_ROSTER_REUSE") == "1"  # measure again on the data already built
    if not reuse:
        fresh_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if reuse:
        from accounts.models import Person
        from courses.models import IssuedHours
        from teachers.models import Membership, TeacherAccount

        built = {
            "people": Person.objects.count(),
            "memberships": Membership.objects.count(),
            "teacher_accounts": TeacherAccount.objects.count(),
            "issued_hours": IssuedHours.objects.count(),
            "membership_subjects": Membership.subjects.through.objects.count(),
        }
    else:
        built = build()
    build_seconds = time.perf_counter() - started
    load_before = load_average()
    page = measure_page()
    print("page:", page, flush=True)
    download = measure_download()
    print("download:", download, flush=True)

    ok_queries = page["queries"] <= MAX_QUERIES
    ok_median = page["median_ms"] <= MAX_MEDIAN_MS
    ok_seconds = download["seconds"] <= MAX_DOWNLOAD_S
    ok_memory = download["peak_mb"] <= MAX_DOWNLOAD_MB
    mark = {True: "✓", False: "✗"}
    now = dt.datetime.now(dt.UTC)
    lines = [
        f"## roster_bench — {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}; PostgreSQL {postgres_version()} (default settings), same host. Code: {commit()}.",
        (
            "Data (built earlier by the bench, reused): "
            if reuse
            else f"Data (built by the bench with bulk inserts in {build_seconds:.1f} s): "
        )
        + "、".join(f"{k} {v:,}" for k, v in built.items())
        + f"; schools of {BIG:,} and {HUGE:,} people plus {OTHERS} of {OTHER_SIZE}."
        + f" Load average when measuring: {load_before} (other work on the machine inflates times).",
        "",
        "| measure | figure | target |",
        "|---|---:|---|",
        f"| 本單位教師帳號管理, {BIG:,} people, both filters on: SQL queries per request "
        f"(of which transaction control: BEGIN/COMMIT/SAVEPOINT) | {page['queries']} "
        f"({page['queries'] - page['data_queries']}) "
        f"| ≤ {MAX_QUERIES} {mark[ok_queries]} |",
        f"| same page: median server time over {REQUESTS} requests (p90) | {page['median_ms']:.1f} ms "
        f"({page['p90_ms']:.1f} ms) | ≤ {MAX_MEDIAN_MS} ms {mark[ok_median]} |",
        f"| yardstick (same run, same client): the signed-in home page, median | {page['yardstick_ms']:.1f} ms "
        f"| the page is {page['median_ms'] / page['yardstick_ms']:.1f}× it |",
        f"| same page: median Python CPU time / SQL time per request | {page['cpu_ms']:.1f} ms / "
        f"{page['sql_ms']:.1f} ms | |",
        f"| same page: people matching both filters | {page['matched']:,} | |",
        f"| 資料下載 .xlsx, {download['rows']:,} people: request time | {download['seconds']:.2f} s "
        f"| ≤ {MAX_DOWNLOAD_S:.0f} s {mark[ok_seconds]} |",
        f"| same download: child's peak RSS (Django, data and openpyxl; {download['bytes'] / 1e6:.1f} MB file) "
        f"| {download['peak_mb']:.0f} MB | ≤ {MAX_DOWNLOAD_MB} MB {mark[ok_memory]} |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write("\n" + text)
    return 0 if all((ok_queries, ok_median, ok_seconds, ok_memory)) else 1


if __name__ == "__main__":
    if "--child-download" in sys.argv:
        child_download()
        sys.exit(0)
    sys.exit(main())
