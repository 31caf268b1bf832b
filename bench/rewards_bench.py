#!/usr/bin/env python
"""Year-end reward job at national scale (SPEC §7, §11), on PostgreSQL. Run by `make bench`.

1. Uses the national set's database (BENCH_DATABASE_URL, default inservice_bench on 127.0.0.1),
   which bench/import_bench.py loads just before in `make bench`. When it holds no hour records
   (the bench run alone) it is created, migrated and loaded with `import_data --bulk` from the
   files of bench/data/ (written by seed_national when missing; BENCH_SCALE=0.1 for a tenth).
2. VACUUM ANALYZE, then EXPLAIN of the job's yearly aggregate (printed).
3. The yardstick, in the same run: `SELECT count(*) FROM (SELECT person_id, sum(hours) …
   GROUP BY person_id) t` timed by psql (\timing), best of 3: the GROUP BY itself, nothing
   fetched into Python (fetching its 200,000 rows doubles it).
4. Starts a real Celery worker (solo pool: the task runs in the worker's own process) on Redis,
   runs `manage.py run_rewards --year 113` (queues and waits), reads the run's own start and end
   times, stops the worker and reads its peak resident memory (wait4).
5. Prints the figures and appends a dated section to bench/results.md.

The job is timed from the run's own started_at to finished_at (written by the worker), so
Django's and Celery's start-up are not in it.

Targets: whole job ≤ 60 s, worker peak RSS ≤ 500 MB, job ≤ 3 × the one GROUP BY (issue 22).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from common import KINDS, NATIONAL_DATABASE_URL, TEACHERS, BackendsCPU, national_data, process_cpu, scale_note

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
PYTHON = sys.executable
DATABASE_URL = NATIONAL_DATABASE_URL
REDIS_URL = os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"))
YEAR = 113
MAX_SECONDS = 60
MAX_MB = 500
MAX_RATIO = 3

AGGREGATE = (
    "SELECT count(*) FROM (SELECT person_id, sum(hours) FROM courses_issuedhours GROUP BY person_id) t"
)


def env() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "DJANGO_LOG_LEVEL": "WARNING"}


def manage(*args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env(), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def connect():
    import psycopg

    return psycopg.connect(DATABASE_URL, autocommit=True)


def ensure_data() -> str:
    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    subprocess.run(
        ["createdb", "-h", url.hostname or "127.0.0.1", "-U", url.username or "postgres", name],
        capture_output=True,
        check=False,
    )
    manage("migrate", "--noinput", "-v0")
    with connect() as conn:
        (hours,) = conn.execute("SELECT count(*) FROM courses_issuedhours").fetchone()
    if hours:
        return f"the national set loaded by import_bench ({TEACHERS:,} teachers, {hours:,} hour records)"
    data = national_data()
    started = time.perf_counter()
    for kind in KINDS:
        manage(
            "import_data",
            kind,
            str(data / f"{kind}.csv"),
            *(["--bulk"] if kind in ("roster", "hours") else []),
        )
    return f"seed_national --teachers {TEACHERS} --seed 1, imported (--bulk) in {time.perf_counter() - started:.0f} s"


def plain_group_by() -> float:
    """Best of 3 of the one GROUP BY, as psql times it (server time, one row back)."""
    url = urlparse(DATABASE_URL)
    times = []
    for _ in range(3):
        done = subprocess.run(
            ["psql", "-X", "-q", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", "-d", url.path.lstrip("/"), "-c", "\\timing on", "-c", AGGREGATE],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        times.append(float(re.search(r"Time: ([0-9.]+) ms", done.stdout).group(1)) / 1000)
    return min(times)


def explain() -> str:
    sys.path.insert(0, str(ROOT))
    os.environ.update({"DATABASE_URL": DATABASE_URL, "DJANGO_SETTINGS_MODULE": "inservice.settings"})
    import django

    django.setup()
    from rewards.job import _population_sql

    population, params = _population_sql(YEAR)
    with connect() as conn:
        plan = conn.execute("EXPLAIN " + population, params).fetchall()
    return "\n".join(line for (line,) in plan)


def clear_results() -> None:
    """A year never computed: the first run of the year is the one measured against the targets."""
    with connect() as conn:
        conn.execute("TRUNCATE rewards_teacherresult, rewards_schoolresult, rewards_authorityresult")
        conn.execute(
            "UPDATE rewards_rewardrun SET status = 'cancelled' WHERE status IN ('queued', 'running')"
        )


def run_job() -> dict:
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "inservice", "worker", "--pool=solo", "--purge", "--loglevel=warning"],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)
        worker_before = process_cpu(worker.pid)  # Django's and Celery's start-up left out
        started = time.perf_counter()
        with BackendsCPU(DATABASE_URL) as backends:
            output = manage("run_rewards", "--year", str(YEAR))
        wall = time.perf_counter() - started
        worker_cpu = process_cpu(worker.pid) - worker_before
    finally:
        worker.terminate()
        _pid, _status, usage = os.wait4(worker.pid, 0)
    with connect() as conn:
        run_id, seconds = conn.execute(
            "SELECT id, EXTRACT(EPOCH FROM finished_at - started_at) FROM rewards_rewardrun "
            "WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return {
        "output": output,
        "wall": wall,
        "job": float(seconds),
        "peak_mb": usage.ru_maxrss / 1024,
        "cpu": worker_cpu,
        "db_cpu": backends.seconds,
        "run": run_id,
    }


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.strip() else "")


def machine() -> str:
    with connect() as conn:
        (version,) = conn.execute("SELECT version()").fetchone()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPU, {memory:.1f} GB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {version.split(',')[0]}, same host; load average at the end {load} "
        "(other helpers share the 2 cores)"
    )


def main() -> None:
    data = ensure_data()
    with connect() as conn:
        conn.execute("VACUUM ANALYZE")
    plan = explain()
    print(plan)
    clear_results()
    load_before = os.getloadavg()
    baseline = plain_group_by()
    result = run_job()
    print(result["output"])
    rerun = run_job()  # replaces the 200,000 rows just written, in one transaction
    baseline = min(baseline, plain_group_by())  # yardstick before and after the job, same run
    ratio = result["job"] / baseline
    print(
        f"GROUP BY {baseline:.2f} s; job {result['job']:.2f} s = {ratio:.2f}× (target ≤ {MAX_RATIO}×); "
        f"rerun {rerun['job']:.2f} s; load {load_before[0]:.2f} → {os.getloadavg()[0]:.2f}"
    )
    ok = {
        "time": result["job"] <= MAX_SECONDS,
        "memory": result["peak_mb"] <= MAX_MB,
        "ratio": ratio <= MAX_RATIO,
    }
    mark = {True: "✓", False: "✗"}
    now = dt.datetime.now(dt.UTC)
    scale = scale_note()
    section = f"""
## rewards_bench — {now:%Y-%m-%d %H:%M} UTC{scale}

Machine: {machine()}. Code: {commit()}.
Data: {data}.

| figure | value |
|---|---:|
| yardstick `{AGGREGATE}` (psql, best of 6 around the job) | {baseline:.2f} s |
| reward job, first run of the year, started → committed (worker) | {result["job"]:.2f} s |
| reward job, rerun replacing those results | {rerun["job"]:.2f} s (÷ GROUP BY: {rerun["job"] / baseline:.2f}×) |
| `run_rewards --year {YEAR}` wall time (queue, wait, print) | {result["wall"]:.2f} s |
| worker peak RSS | {result["peak_mb"]:.0f} MB (rerun {rerun["peak_mb"]:.0f} MB) |
| job ÷ one GROUP BY | {ratio:.2f}× |
| CPU of the job: the worker's Python + its PostgreSQL backends (parallel workers included, polled every 50 ms) | {result["cpu"]:.2f} s + {result["db_cpu"]:.2f} s |

Load average (1, 5, 15 min) before the run: {", ".join(f"{x:.2f}" for x in load_before)}.

Targets (first run): job ≤ {MAX_SECONDS} s: {result["job"]:.1f} s {mark[ok["time"]]}; worker peak ≤ {MAX_MB} MB:
{result["peak_mb"]:.0f} MB {mark[ok["memory"]]}; ≤ {MAX_RATIO}× the one GROUP BY: {ratio:.2f}× {mark[ok["ratio"]]}.

Summary printed by run_rewards:

```
{result["output"].strip()}
```

EXPLAIN of the job's population + yearly hours query:

```
{plan}
```
"""
    print(section)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(section)
    if not all(ok.values()):
        raise SystemExit("reward bench: a target was missed")


if __name__ == "__main__":
    main()
