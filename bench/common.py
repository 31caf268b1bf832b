"""What every benchmark writes beside its figures: the machine and the commit measured."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    """The commit measured, marked when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} with uncommitted changes" if dirty else head


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} CPU ({cpu}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


# --------------------------------------------------------------------------------------------
# The national data set, written once and cached under bench/data/ (gitignored)

# BENCH_SCALE scales the national set (1 = 200,000 teachers; 0.1 is a quick check of the whole
# `make bench`, whose figures are not the national ones and say so).
SCALE = float(os.environ.get("BENCH_SCALE", "1"))


def scaled(name: str, full: float, least: float = 1) -> int:
    """An environment override, else the full-size figure times BENCH_SCALE (at least `least`)."""
    return int(os.environ.get(name) or max(least, round(full * SCALE)))


def scale_note() -> str:
    """What a results heading says of a reduced run."""
    return "" if SCALE == 1 else f" (BENCH_SCALE={SCALE:g}: a quick check, not the figures of record)"


TEACHERS = scaled("BENCH_TEACHERS", 200_000)
SEED = int(os.environ.get("BENCH_SEED", "1"))
KINDS = ("units", "roster", "hours", "plans")
# One database holds the national set for the import, 研習紀錄 and reward benches.
NATIONAL_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inservice_bench"
)


def national_data() -> Path:
    """The folder of the national set's files, written by seed_national when missing."""
    folder = ROOT / "bench" / "data"
    if TEACHERS != 200_000 or SEED != 1:
        folder = folder / f"teachers-{TEACHERS}-seed-{SEED}"
    if not all((folder / f"{kind}.csv").exists() for kind in KINDS):
        import sys
        import time

        print(f"writing the national set ({TEACHERS:,} people, seed {SEED}) into {folder} …", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "seed_national", "--teachers", str(TEACHERS), "--seed", str(SEED),
             "--out", str(folder)],
            cwd=ROOT, check=True, env={**os.environ, "DATABASE_URL": NATIONAL_DATABASE_URL},
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def fresh_database(url: str) -> None:
    """Drop and create the database of `url` (the bench's own, never the portal's)."""
    from urllib.parse import urlparse

    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


# --------------------------------------------------------------------------------------------
# CPU time: on a shared machine wall times are inflated by other work, CPU seconds much less


def process_cpu(pid: int) -> float:
    """utime + stime of one process, in seconds (from /proc; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu(connection) -> float:
    """CPU seconds so far of the PostgreSQL backend serving `connection` (same host)."""
    (pid,) = connection.execute("SELECT pg_backend_pid()").fetchone()
    return process_cpu(pid)


class BackendsCPU:
    """CPU seconds of the PostgreSQL backends of one database while a child process works.

    A thread polls pg_stat_activity and /proc every 50 ms and keeps each backend's last
    reading: a backend's work after its last poll (≤ 50 ms) is missed.
    """

    def __init__(self, url: str):
        from urllib.parse import urlparse

        self.name = urlparse(url).path.lstrip("/")
        self.admin = urlparse(url)._replace(path="/postgres").geturl()
        self.seen: dict[int, float] = {}

    def __enter__(self):
        import threading

        import psycopg

        self.stop = threading.Event()
        self.conn = psycopg.connect(self.admin, autocommit=True)

        def poll():
            while not self.stop.is_set():
                for (pid,) in self.conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.name]
                ).fetchall():
                    cpu = process_cpu(pid)
                    if cpu:
                        self.seen[pid] = cpu
                self.stop.wait(0.05)

        self.thread = threading.Thread(target=poll, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.conn.close()
        return False

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
