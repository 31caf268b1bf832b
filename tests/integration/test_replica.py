"""The read replica (issue 21 point 5) against a real PostgreSQL 15 streaming replica: a primary
cluster made with initdb on a free port, its replica by `pg_basebackup -R` on another, both run
as the postgres user. The public read pages (研習課程查詢, a course page, 統計專區) read from the
replica; a lagging or stopped replica sends them to the primary; no write ever goes to it.

Skipped without the PostgreSQL 15 server binaries, failed instead in CI."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import transaction

from core import replica
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(*argv, check=True, **kwargs):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *map(str, argv)], check=check, capture_output=True, text=True, **kwargs)


def sql(port: int, statement: str, db: str = "postgres") -> str:
    return as_postgres(
        PG_BIN / "psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-tAc", statement
    ).stdout.strip()


@pytest.fixture(scope="module")
def clusters():
    if not (PG_BIN / "initdb").exists() or not shutil.which("runuser") and os.geteuid() == 0:
        skip_or_fail(f"PostgreSQL server binaries not found in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="replica-test-"))
    shutil.chown(base, "postgres") if os.geteuid() == 0 else None
    primary, replica = base / "primary", base / "replica"
    ports = {"primary": free_port(), "replica": free_port()}
    started = []
    try:
        as_postgres(
            PG_BIN / "initdb",
            "-D",
            primary,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {ports['primary']}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
            )
        as_postgres(PG_BIN / "pg_ctl", "-D", primary, "-l", base / "primary.log", "-w", "start")
        started.append(primary)
        sql(ports["primary"], "CREATE DATABASE portal")
        yield {"base": base, "primary": primary, "replica": replica, "ports": ports, "started": started}
    finally:
        for data in reversed(started):
            as_postgres(PG_BIN / "pg_ctl", "-D", data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


def probe(clusters, *args, env_extra=None) -> str:
    ports = clusters["ports"]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{ports['primary']}/portal",
        DATABASE_REPLICA_URL=f"postgres://postgres@127.0.0.1:{ports['replica']}/portal",
        DATABASE_REPLICA_CHECK_SECONDS="0",
    )
    env.update(env_extra or {})
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def read(clusters, code, **env):
    return json.loads(
        probe(clusters, "-m", "tests.integration.replica_probe", "read", code, env_extra=env).splitlines()[-1]
    )


def caught_up(clusters) -> bool:
    ports = clusters["ports"]
    primary_lsn = sql(ports["primary"], "SELECT pg_current_wal_lsn()")
    return sql(ports["replica"], f"SELECT pg_last_wal_replay_lsn() >= '{primary_lsn}'::pg_lsn") == "t"


def test_public_read_pages_are_served_by_a_streaming_replica_and_fall_back_to_the_primary(clusters):
    ports, replica = clusters["ports"], clusters["replica"]
    probe(clusters, "manage.py", "migrate", "--noinput", env_extra={"DATABASE_REPLICA_URL": ""})
    probe(
        clusters,
        "-m",
        "tests.integration.replica_probe",
        "seed",
        "REPL-1",
        env_extra={"DATABASE_REPLICA_URL": ""},
    )

    as_postgres(
        PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", ports["primary"], "-U", "postgres",
        "-D", replica, "-R", "-X", "stream", "-c", "fast",
    )  # fmt: skip
    with open(replica / "postgresql.conf", "a") as conf:
        conf.write(f"port = {ports['replica']}\n")
    as_postgres(PG_BIN / "pg_ctl", "-D", replica, "-l", clusters["base"] / "replica.log", "-w", "start")
    clusters["started"].append(replica)
    assert sql(ports["replica"], "SELECT pg_is_in_recovery()") == "t"
    deadline = time.monotonic() + 60
    while not caught_up(clusters) and time.monotonic() < deadline:
        time.sleep(0.5)

    # In step: every named page reads from the replica, and nothing is written there.
    pages = read(clusters, "REPL-1")
    for name in ("search", "detail", "statistics"):
        assert pages[name]["status"] == 200, (name, pages[name])
        assert pages[name]["replica"] >= 1, (name, pages[name])
        assert pages[name]["replica_writes"] == []
    assert pages["search"]["found"] and pages["detail"]["found"]
    assert pages["writes_on_replica"] == []

    # Lagging: replay paused, a course added on the primary; the pages read the primary and see it.
    sql(ports["replica"], "SELECT pg_wal_replay_pause()")
    probe(
        clusters,
        "-m",
        "tests.integration.replica_probe",
        "seed",
        "REPL-2",
        env_extra={"DATABASE_REPLICA_URL": ""},
    )
    assert (
        sql(ports["replica"], "SELECT count(*) FROM courses_course WHERE code = 'REPL-2'", db="portal") == "0"
    )
    pages = read(clusters, "REPL-2", DATABASE_REPLICA_MAX_LAG_BYTES="0")
    for name in ("search", "detail"):
        assert pages[name]["replica"] == 0 and pages[name]["found"], (name, pages[name])
    sql(ports["replica"], "SELECT pg_wal_replay_resume()")

    # Down: the replica stopped; the pages answer from the primary.
    as_postgres(PG_BIN / "pg_ctl", "-D", replica, "-m", "fast", "-w", "stop")
    clusters["started"].remove(replica)
    pages = read(clusters, "REPL-2")
    for name in ("search", "detail", "statistics"):
        assert pages[name]["status"] == 200 and pages[name]["replica"] == 0, (name, pages[name])
    assert pages["detail"]["found"]


@pytest.mark.django_db(transaction=True)  # no test transaction around it: the page's own view
def test_a_read_inside_a_write_transaction_stays_on_the_primary(monkeypatch):
    monkeypatch.setattr(replica, "configured", lambda: True)
    monkeypatch.setattr(replica, "_usable", lambda: True)
    replica.forget()
    assert replica.read_alias() == "replica"
    with transaction.atomic():
        assert replica.read_alias() == "default"
