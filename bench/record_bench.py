#!/usr/bin/env python
"""研習紀錄 benchmark (issue 11, Performance: a teacher's learning record ≤ 30 ms). Run by `make bench`.

Reads the national data set that bench/import_bench.py leaves in its database
(BENCH_DATABASE_URL, default inservice_bench on 127.0.0.1; `make bench` runs the import first):
about 4,000,000 issued-hours records. Takes the person with the most hour records, gives them a
teacher sign-in (the only write, a `bench-record-teacher` user), and requests their 研習紀錄 of
the academic year of their latest hours 30 times through Django's test client in this process
(middleware and template included). Prints the median and the query count and appends a dated
section to bench/results.md.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

from common import commit, machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results.md"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inservice_bench")
REQUESTS = 30
TARGET_MS = 30


def main() -> int:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
    os.environ.pop("REDIS_URL", None)  # in-process cache: the bench measures the page, not Redis
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from core.roc import academic_year

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM courses_issuedhours")
        (records,) = cursor.fetchone()
        if not records:
            print("no issued hours: run bench/import_bench.py first", file=sys.stderr)
            return 1
        cursor.execute(
            """SELECT person_id, count(*), max(date) FROM courses_issuedhours
               GROUP BY person_id ORDER BY 2 DESC LIMIT 1"""
        )
        person_id, person_records, latest = cursor.fetchone()
    year = academic_year(latest)
    user, _ = User.objects.update_or_create(
        username="bench-record-teacher", defaults={"person_id": person_id, "is_active": True}
    )
    client = Client()
    client.force_login(user)
    url = reverse("courses:learning-record") + f"?year={year}"
    for _ in range(3):
        assert client.get(url).status_code == 200
    # Counted with a wrapper: the test client's request_started signal empties connection.queries.
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    median = statistics.median(timings)
    home = []  # the yardstick, same run and client: the signed-in home page
    for _ in range(REQUESTS):
        started = time.perf_counter()
        assert client.get("/").status_code == 200
        home.append((time.perf_counter() - started) * 1000)
    yardstick = statistics.median(home)
    p90 = sorted(timings)[int(len(timings) * 0.9) - 1]
    load = os.getloadavg()[0]
    verdict = "✓" if median <= TARGET_MS else "✗"
    section = f"""
## record_bench — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC

Machine: {machine()}; PostgreSQL on the same host. Code: {commit()}.
Data: the import bench's national set, {records:,} issued-hours records; the teacher with the most
records ({person_records:,}, academic year {year}). Load average (1 min) when measuring: {load:.2f}.

| measure | figure | target |
|---|---:|---|
| 研習紀錄 (`GET /me/learning-record/?year={year}`), median of {REQUESTS} (p90) | {median:.1f} ms ({p90:.1f} ms) | ≤ {TARGET_MS} ms {verdict} |
| yardstick (same run, same client): signed-in home page `GET /`, median | {yardstick:.1f} ms | the record is {median / yardstick:.1f}× it |
| SQL queries per request | {len(queries)} | fixed (a test checks it does not grow with the rows) |
"""
    print(section)
    print(
        f"{'PASS' if median <= TARGET_MS else 'FAIL'}  研習紀錄 median {median:.1f} ms ≤ {TARGET_MS} ms; {median / yardstick:.1f}× the home page"
    )
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(section)
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
