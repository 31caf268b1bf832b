#!/usr/bin/env python
"""Import benchmark at national scale (SPEC §11, issue 22 point 3), on PostgreSQL. Run by `make bench`.

1. Writes the national set with `seed_national --teachers 200000` into bench/data/ if missing
   (BENCH_SCALE=0.1: a tenth of it, for a quick check).
2. Creates a fresh database (BENCH_DATABASE_URL, default inservice_bench on 127.0.0.1) and
   migrates it.
3. Imports units, roster, hours and plans, each with `manage.py import_data -v 2` in a child
   process: its wall time, its CPU time and that of its PostgreSQL backend (/proc, same host),
   its peak resident memory (wait4) and the importer's own phases. The first import is the
   switch-over from the old system, so roster and hours run with `--bulk` (keys and indexes
   rebuilt once); then every kind is imported a second time on the ordinary path (nothing changes).
4. The yardsticks, in the same run, after the imports:
   - hours: a bare `COPY` of hours.csv into an unindexed table of text columns, plus rebuilding
     the keys of the loaded hours table (its unique key, foreign keys and indexes, dropped and
     added again in a transaction that is rolled back): what any load of these rows must pay;
   - roster: a bare `COPY` of roster.csv, plus what the per-person work costs at its least: the
     national-ID check, the HMAC digest and the Fernet encryption of each distinct ID.
5. Prints the figures, the ratios and a PASS/FAIL per target; appends a dated section to
   bench/results.md.

Targets: hours ≤ 2 × (bare COPY + key rebuild) with peak RSS ≤ 300 MB; roster (200,000 people)
≤ 8 s. Wall time is what the targets name; on a shared machine the CPU ratios (child + backend
against the yardstick's own) are the steadier figure, and are printed beside them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    KINDS,
    NATIONAL_DATABASE_URL,
    SCALE,
    SEED,
    TEACHERS,
    BackendsCPU,
    backend_cpu,
    commit,
    fresh_database,
    load_average,
    machine,
    national_data,
    scale_note,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
PYTHON = sys.executable
DATABASE_URL = NATIONAL_DATABASE_URL
BULK_KINDS = ("roster", "hours")  # kinds with tables for --bulk to rebuild
HOURS_MAX_RATIO = 2
HOURS_MAX_MB = 300
ROSTER_MAX_SECONDS = 8 * SCALE
PHASE_RE = re.compile(r"^\s+(.+)：([0-9.]+) 秒$")
DONE_RE = re.compile(r"匯入完成（([0-9.]+) 秒）")  # the import's own time, Django's start-up left out


def run_child(args: list[str], env: dict[str, str]) -> dict:
    """Wall and CPU seconds (the child's and its PostgreSQL backends'), peak RSS, output, phases."""
    started = time.perf_counter()
    with BackendsCPU(DATABASE_URL) as backends:
        child = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        output = child.stdout.read()
        _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{output}")
    phases = [(m.group(1), float(m.group(2))) for m in map(PHASE_RE.match, output.splitlines()) if m]
    done = DONE_RE.search(output)
    return {
        "process": elapsed,
        "wall": float(done.group(1)) if done else elapsed,
        "cpu": usage.ru_utime + usage.ru_stime,
        "db_cpu": backends.seconds,
        "mb": usage.ru_maxrss / 1024,
        "output": output,
        "phases": phases,
    }


def data_rows(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1


def bare_copy(path: Path) -> dict:
    """A bare COPY of the file into an unindexed table of text columns: the floor for an import."""
    import psycopg

    with open(path, encoding="utf-8-sig") as f:
        columns = f.readline().strip().split(",")
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare")
        conn.execute(f"CREATE TABLE bench_bare ({', '.join(f'{c} text' for c in columns)})")
        conn.commit()
        db_before, cpu_before = backend_cpu(conn), time.process_time()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy("COPY bench_bare FROM STDIN (FORMAT csv, HEADER true)") as copy:
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
        result = {
            "wall": time.perf_counter() - started,
            "cpu": time.process_time() - cpu_before,
            "db_cpu": backend_cpu(conn) - db_before,
        }
        conn.execute("DROP TABLE bench_bare")
        conn.commit()
    return result


def key_rebuild(table: str) -> dict:
    """Dropping and adding again the keys and indexes `--bulk` rebuilds, rolled back."""
    sys.path.insert(0, str(ROOT))
    os.environ.update({"DATABASE_URL": DATABASE_URL, "DJANGO_SETTINGS_MODULE": "inservice.settings"})
    import django

    django.setup()
    from common import process_cpu
    from django.db import connection, transaction

    from core.dataexchange import secondary_indexes_dropped

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        db_before, started = process_cpu(pid), time.perf_counter()
        with secondary_indexes_dropped(connection, table):
            pass
        result = {"wall": time.perf_counter() - started, "cpu": 0.0, "db_cpu": process_cpu(pid) - db_before}
        transaction.set_rollback(True)
    return result


def per_person_floor(path: Path) -> dict:
    """The per-person work no roster import can skip: check, HMAC digest and Fernet of each ID."""
    import csv

    from accounts import national_id

    with open(path, encoding="utf-8-sig", newline="") as f:
        ids = list(dict.fromkeys(row[0] for row in csv.reader(f)))[1:]
    started, cpu_before = time.perf_counter(), time.process_time()
    for raw in ids:
        nid = national_id.check(raw)
        national_id.digest(nid)
        national_id.encrypt(nid)
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu_before, "db_cpu": 0.0}


def total(*figures: dict, key: str) -> float:
    return sum(f[key] for f in figures)


def main() -> int:
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "1"))
    data = national_data()
    files = {kind: data / f"{kind}.csv" for kind in KINDS}
    fresh_database(DATABASE_URL)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    # What a child costs with no rows (Django's start-up, the command, the connection): an import of
    # a header-only file, taken out of each import's CPU (its time is not in the import's own).
    empty = Path(tempfile.mkdtemp()) / "units.csv"
    empty.write_text(files["units"].open(encoding="utf-8-sig").readline(), encoding="utf-8")
    startup = run_child([PYTHON, "manage.py", "import_data", "units", str(empty)], env)["cpu"]
    load_before = load_average()
    results = []
    for attempt in ("first import", "again (no change)"):
        for kind in KINDS:
            rows = data_rows(files[kind])
            flags = ["--bulk"] if attempt == "first import" and kind in BULK_KINDS else []
            r = run_child(
                [PYTHON, "manage.py", "import_data", "-v", "2", kind, str(files[kind]), *flags], env
            )
            r.update(attempt=attempt + (" --bulk" if flags else ""), kind=kind, rows=rows)
            r["cpu"] = max(r["cpu"] - startup, 0.0)
            r["summary"] = r["output"].strip().splitlines()[-1].split("：", 1)[-1]
            results.append(r)
            phases = "; ".join(f"{name} {seconds:.1f} s" for name, seconds in r["phases"])
            print(
                f"{r['attempt']:25} {kind:7} {rows:>9,} rows {r['wall']:6.1f} s ({r['process']:.1f} s with start-up), "
                f"CPU {r['cpu']:5.1f} s + "
                f"PostgreSQL {r['db_cpu']:5.1f} s, {r['mb']:4.0f} MB  ({phases})",
                flush=True,
            )

    hours = next(r for r in results if r["attempt"].startswith("first import") and r["kind"] == "hours")
    roster = next(r for r in results if r["attempt"].startswith("first import") and r["kind"] == "roster")
    hours_copy, rebuild = bare_copy(files["hours"]), key_rebuild("courses_issuedhours")
    roster_copy, people = bare_copy(files["roster"]), per_person_floor(files["roster"])
    load_after = load_average()
    hours_floor = {k: total(hours_copy, rebuild, key=k) for k in ("wall", "cpu", "db_cpu")}
    roster_floor = {k: total(roster_copy, people, key=k) for k in ("wall", "cpu", "db_cpu")}

    def cpu(f):
        return f["cpu"] + f["db_cpu"]

    hours_ratio, roster_ratio = hours["wall"] / hours_floor["wall"], roster["wall"] / roster_floor["wall"]
    hours_cpu_ratio, roster_cpu_ratio = cpu(hours) / cpu(hours_floor), cpu(roster) / cpu(roster_floor)
    yardsticks = [
        f"hours: bare COPY {hours_copy['wall']:.1f} s + key rebuild {rebuild['wall']:.1f} s = "
        f"{hours_floor['wall']:.1f} s (CPU {cpu(hours_floor):.1f} s); the import {hours['wall']:.1f} s = "
        f"{hours_ratio:.2f}× (CPU {cpu(hours):.1f} s = {hours_cpu_ratio:.2f}×)",
        f"roster: bare COPY {roster_copy['wall']:.2f} s + per-person check, HMAC and Fernet "
        f"{people['wall']:.2f} s = {roster_floor['wall']:.1f} s (CPU {cpu(roster_floor):.1f} s); the import "
        f"{roster['wall']:.1f} s = {roster_ratio:.1f}× (CPU {cpu(roster):.1f} s = {roster_cpu_ratio:.1f}×)",
    ]
    for line in yardsticks:
        print("yardstick, " + line)
    checks = [
        (f"hours ≤ {HOURS_MAX_RATIO}× (bare COPY + key rebuild)", hours_ratio <= HOURS_MAX_RATIO,
         f"{hours_ratio:.2f}× (CPU {hours_cpu_ratio:.2f}×)"),
        (f"hours peak RSS ≤ {HOURS_MAX_MB} MB", hours["mb"] <= HOURS_MAX_MB, f"{hours['mb']:.0f} MB"),
        (f"roster ≤ {ROSTER_MAX_SECONDS:g} s", roster["wall"] <= ROSTER_MAX_SECONDS, f"{roster['wall']:.1f} s"),
    ]  # fmt: skip
    for label, ok, value in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {value}")

    scale = scale_note()
    lines = [
        "",
        f"## import_bench — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC{scale}",
        "",
        f"Machine: {machine()}; PostgreSQL same host. Code: {commit()}. Load average (1, 5, 15 min): "
        f"before {load_before}, at the end {load_after}.",
        f"Data: `seed_national --teachers {TEACHERS} --seed {SEED}`. Each import is `manage.py import_data` "
        "in its own process; seconds = the import's own (import_data's 匯入完成 time: Django's start-up left out); "
        f"CPU = the child's, less the {startup:.1f} s an import of a header-only file costs (start-up), + its "
        "PostgreSQL backend's; peak = the child's max RSS.",
        "",
        "| run | kind | rows | seconds | CPU s (child + PostgreSQL) | peak MB | phases (s) | result |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        phases = "; ".join(f"{name} {seconds:.1f}" for name, seconds in r["phases"])
        lines.append(
            f"| {r['attempt']} | {r['kind']} | {r['rows']:,} | {r['wall']:.1f} | {r['cpu']:.1f} + {r['db_cpu']:.1f} "
            f"| {r['mb']:.0f} | {phases} | {r['summary']} |"
        )
    lines += ["", "Yardsticks, same run, after the imports:", ""]
    lines += [f"- {line}" for line in yardsticks]
    lines += [
        "",
        "Targets: "
        + "; ".join(f"{label}: {value} {'✓' if ok else '✗'}" for label, ok, value in checks)
        + ".",
        "",
    ]
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0 if all(ok for _label, ok, _value in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
