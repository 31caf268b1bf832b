#!/usr/bin/env python
"""Nightly feed bench (issue 10): N rows of new kindergarten teachers, then the same feed again.

    BENCH_FEED_DATABASE_URL=… .venv/bin/python bench/feed_bench.py 5000

Run by `make bench`. Creates a fresh database (BENCH_FEED_DATABASE_URL, default
inservice_feed_bench on 127.0.0.1) and migrates it. Yardstick, in the same run: a bare COPY of
the same N rows into an unindexed table of text columns. Checks each run's counts (first run:
N added; the same feed again: N unchanged, nothing added) and its time (≤ 60 s, the nightly
window), prints the ratio to the COPY and appends a dated section to bench/results.md.
"""

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from common import commit, machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results.md"
DATABASE_URL = os.environ.get(
    "BENCH_FEED_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inservice_feed_bench"
)
MAX_SECONDS = 60
url = urlparse(DATABASE_URL)
base = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
subprocess.run(["dropdb", "--if-exists", "--force", *base, url.path.lstrip("/")], check=True)
subprocess.run(["createdb", *base, url.path.lstrip("/")], check=True)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.pop("REDIS_URL", None)  # eager tasks, in-process cache: the bench measures the feed and PostgreSQL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

call_command("migrate", verbosity=0)

from accounts import national_id  # noqa: E402
from accounts.models import Stage, Unit, UnitKind  # noqa: E402
from teachers import feeds  # noqa: E402
from teachers.models import FeedSource  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
authority, _ = Unit.objects.get_or_create(
    code="BENCHA", defaults={"name": "測試縣", "kind": UnitKind.AUTHORITY}
)
schools = [
    Unit.objects.get_or_create(
        code=f"BK{i:04d}",
        defaults={
            "name": f"測試幼兒園{i}",
            "kind": UnitKind.SCHOOL,
            "stage": Stage.KINDERGARTEN,
            "authority": authority,
        },
    )[0]
    for i in range(50)
]
with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
    for i in range(n):
        row = {
            "national_id": national_id.with_check_digit(f"Q2{7000000 + i:07d}"),
            "name": f"教保員{i}",
            "school_code": schools[i % len(schools)].code,
            "start_date": "2024-08-01",
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.write(json.dumps({"end": True, "count": n}) + "\n")
load_before = os.getloadavg()
# The yardstick: the same rows by a bare COPY into an unindexed table of text columns.
with open(out.name, encoding="utf-8") as f:
    records = [json.loads(line) for line in f]
rows = [
    (r["national_id"], r["name"], r["school_code"], r["start_date"]) for r in records if "national_id" in r
]
with connection.cursor() as cursor:
    cursor.execute(
        "CREATE TABLE bench_bare_feed (national_id text, name text, school_code text, start_date text)"
    )
    started = time.perf_counter()
    with cursor.cursor.copy("COPY bench_bare_feed FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    copy_seconds = time.perf_counter() - started
    cursor.execute("DROP TABLE bench_bare_feed")
print(f"yardstick: bare COPY of the {n:,} rows {copy_seconds:.3f} s")
expected = {"first run": (n, 0), "same feed again": (0, n)}
figures = []
for label in ("first run", "same feed again"):
    started = time.perf_counter()
    run = feeds.roster_feed_run(FeedSource.KINDERGARTEN, adapter=feeds.FileAdapter(out.name))
    seconds = time.perf_counter() - started
    ok = (run.added, run.unchanged) == expected[label] and not run.refused and seconds <= MAX_SECONDS
    figures.append((label, run.status, run.added, run.unchanged, run.refused, seconds, ok))
    print(label, run.status, run.added, run.unchanged, run.refused, f"{seconds:.1f} s", f"{seconds / copy_seconds:.0f}× COPY",
          "PASS" if ok else "FAIL")  # fmt: skip
os.unlink(out.name)
load_after = os.getloadavg()
section = "\n".join(
    [
        "",
        f"## feed_bench — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}; PostgreSQL on the same host. Code: {commit()}. Load average (1, 5, 15 min) "
        f"before {', '.join(f'{x:.2f}' for x in load_before)}, after {', '.join(f'{x:.2f}' for x in load_after)}.",
        f"Data: {n:,} new kindergarten staff over {len(schools)} kindergartens (JSON lines, the file adapter).",
        f"Yardstick (same run): bare COPY of the same {n:,} rows into an unindexed table of text columns, "
        f"{copy_seconds:.3f} s.",
        "",
        "| run | status | added | unchanged | refused | seconds | ÷ COPY | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
        *(
            f"| {label} | {status} | {added:,} | {unchanged:,} | {refused} | {seconds:.1f} | {seconds / copy_seconds:.0f}× "
            f"| counts as expected, ≤ {MAX_SECONDS} s {'✓' if ok else '✗'} |"
            for label, status, added, unchanged, refused, seconds, ok in figures
        ),
        "",
    ]
)
print(section)
with RESULTS.open("a", encoding="utf-8") as handle:
    handle.write(section)
sys.exit(0 if all(f[-1] for f in figures) else 1)
