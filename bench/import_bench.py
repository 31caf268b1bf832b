#!/usr/bin/env python
"""Import benchmark at national scale (SPEC §11), on PostgreSQL. Run by `make bench`.

1. Writes the national set with `seed_national --teachers 200000` into bench/data/ if missing.
2. Creates a fresh database (BENCH_DATABASE_URL, default inservice_bench on 127.0.0.1) and
   migrates it.
3. Imports units, roster, hours and plans, each with `manage.py import_data` in a child process,
   and reads the child's wall time and peak resident memory (wait4). The first import is the
   switch-over from the old system, so roster and hours run with `--bulk` (the operator's
   explicit choice: keys and indexes rebuilt once); then every kind is imported a second time
   on the ordinary path (idempotent: nothing changes).
4. Times a bare `COPY` of hours.csv into an unindexed table of text columns, for the ratio.
5. Prints the figures and appends a dated section to bench/results.md.

Targets: hours ≥ 100,000 rows/s with peak RSS ≤ 300 MB; roster (200,000 people) ≤ 20 s.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from common import commit, machine

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.md"
PYTHON = sys.executable
TEACHERS = int(os.environ.get("BENCH_TEACHERS", "200000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inservice_bench")
KINDS = ("units", "roster", "hours", "plans")
BULK_KINDS = ("roster", "hours")  # kinds with tables for --bulk to rebuild
HOURS_MIN_RATE = 100_000
HOURS_MAX_MB = 300
ROSTER_MAX_SECONDS = 20


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, output) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output


def data_rows(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1


def fresh_database() -> None:
    import psycopg

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def bare_copy_seconds(path: Path) -> float:
    """A bare COPY of the file into an unindexed table of text columns: the floor for an import."""
    import psycopg

    with open(path, encoding="utf-8-sig") as f:
        columns = f.readline().strip().split(",")
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare")
        conn.execute(f"CREATE TABLE bench_bare ({', '.join(f'{c} text' for c in columns)})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy("COPY bench_bare FROM STDIN (FORMAT csv, HEADER true)") as copy:
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare")
        conn.commit()
    return elapsed


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def main() -> int:
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "1"))
    files = {kind: DATA / f"{kind}.csv" for kind in KINDS}
    if not all(path.exists() for path in files.values()):
        print(f"writing the national set ({TEACHERS} people, seed {SEED}) into {DATA} …", flush=True)
        seconds, _mb, _out = run_child(
            [
                PYTHON,
                "manage.py",
                "seed_national",
                "--teachers",
                str(TEACHERS),
                "--seed",
                str(SEED),
                "--out",
                str(DATA),
            ],
            env,
        )
        print(f"  written in {seconds:.1f} s", flush=True)

    fresh_database()
    run_child([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)

    load_before = os.getloadavg()
    results = []
    for attempt in ("first import", "again (no change)"):
        for kind in KINDS:
            rows = data_rows(files[kind])
            flags = ["--bulk"] if attempt == "first import" and kind in BULK_KINDS else []
            seconds, mb, output = run_child(
                [PYTHON, "manage.py", "import_data", kind, str(files[kind]), *flags], env
            )
            summary = output.strip().splitlines()[-1]
            results.append(
                (attempt + (" --bulk" if flags else ""), kind, rows, seconds, rows / seconds, mb, summary)
            )
            print(
                f"{results[-1][0]:25} {kind:7} {rows:>9,} rows {seconds:7.1f} s {rows / seconds:>10,.0f} rows/s {mb:6.0f} MB",
                flush=True,
            )

    copy_seconds = bare_copy_seconds(files["hours"])
    roster_copy = bare_copy_seconds(files["roster"])
    load_after = os.getloadavg()
    hours = next(r for r in results if r[0].startswith("first import") and r[1] == "hours")
    roster = next(r for r in results if r[0].startswith("first import") and r[1] == "roster")
    ratio = hours[3] / copy_seconds
    roster_ratio = roster[3] / roster_copy
    print(
        f"bare COPY of roster.csv: {roster_copy:.1f} s; import_data roster / bare COPY = {roster_ratio:.0f}×"
    )
    print(
        f"bare COPY of hours.csv into an unindexed table: {copy_seconds:.1f} s; import_data hours / bare COPY = {ratio:.1f}×"
    )

    checks = [
        (f"hours ≥ {HOURS_MIN_RATE:,} rows/s", hours[4] >= HOURS_MIN_RATE, f"{hours[4]:,.0f} rows/s"),
        (f"hours peak RSS ≤ {HOURS_MAX_MB} MB", hours[5] <= HOURS_MAX_MB, f"{hours[5]:.0f} MB"),
        (f"roster ≤ {ROSTER_MAX_SECONDS} s", roster[3] <= ROSTER_MAX_SECONDS, f"{roster[3]:.1f} s"),
    ]
    for label, ok, value in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {value}")

    lines = [
        "",
        f"## import_bench — {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        "",
        f"Machine: {machine()}; PostgreSQL {postgres_version()} (default settings), same host. "
        f"Code: {commit()}.",
        f"Data: `seed_national --teachers {TEACHERS} --seed {SEED}`. Each import is `manage.py import_data` "
        "in its own process (wall time includes start-up); peak = the child's max RSS.",
        "",
        "| run | kind | rows | seconds | rows/s | peak MB | result |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for attempt, kind, rows, seconds, rate, mb, summary in results:
        summary = summary.split("：", 1)[-1]
        lines.append(
            f"| {attempt} | {kind} | {rows:,} | {seconds:.1f} | {rate:,.0f} | {mb:.0f} | {summary} |"
        )
    lines += [
        "",
        f"Bare `COPY` of hours.csv ({hours[2]:,} rows) into an unindexed table of text columns: "
        f"{copy_seconds:.1f} s; the full hours import takes {ratio:.1f}× that. Bare `COPY` of roster.csv: "
        f"{roster_copy:.1f} s; the roster import (first, --bulk) takes {roster_ratio:.0f}× that (both yardsticks "
        f"measured in the same run, after the imports). Load average (1, 5, 15 min): before "
        f"{', '.join(f'{x:.2f}' for x in load_before)}, at the end {', '.join(f'{x:.2f}' for x in load_after)}.",
        "",
        "Targets: "
        + "; ".join(f"{label}: {value} {'✓' if ok else '✗'}" for label, ok, value in checks)
        + ".",
        "",
    ]
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nDated figures appended by `make bench`.\n", encoding="utf-8"
        )
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0 if all(ok for _label, ok, _value in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
