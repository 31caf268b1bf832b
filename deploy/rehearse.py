"""Rehearse docker-compose.yml without Docker (docs/operations.md "Rehearsal").

    .venv/bin/python -m deploy.rehearse [--database-url URL] [--redis-url URL] [--keep DIR]

Needs docker-compose (Debian's package: it reads the file, no daemon), a PostgreSQL server (a fresh
database is created on the server of --database-url / DATABASE_URL and dropped afterwards) and a
Redis database (--redis-url / REDIS_URL). Starts migrate, web, worker and beat as compose would
(deploy/stack.py), seeds the demo and runs the smoke journey (deploy/journey.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
import urllib.parse
from pathlib import Path

import psycopg
import redis

from deploy import journey
from deploy.stack import HOST, Stack


def server_url(database_url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(database_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", "", ""))


@contextlib.contextmanager
def fresh_database(database_url: str, prefix: str = "rehearsal"):
    """A new empty database on the server of database_url, dropped on the way out."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = server_url(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url(database_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_queue(redis_url: str) -> None:
    # Tasks another run left on this Redis database are not this rehearsal's.
    redis.Redis.from_url(redis_url).delete("celery")


@contextlib.contextmanager
def rehearsal(database_url: str, redis_url: str, work: Path | None = None):
    """A running stack on a fresh database: yields the Stack (stopped and dropped afterwards)."""
    with contextlib.ExitStack() as exits:
        if work is None:
            work = Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="rehearsal-")))
        url = exits.enter_context(fresh_database(database_url))
        clear_queue(redis_url)
        stack = exits.enter_context(Stack(work, database_url=url, redis_url=redis_url))
        stack.up()
        yield stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--keep", type=Path, help="folder for the services' files and logs (kept)")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgres") or not args.redis_url:
        parser.error("a PostgreSQL --database-url and a --redis-url are needed")
    with rehearsal(args.database_url, args.redis_url, args.keep) as stack:
        print(f"stack up: web on {stack.url}; logs in {stack.work / 'logs'}")
        journey.seed(stack)
        journey.run(stack.url, HOST)
        print("journey passed: sign-in, 批次上傳, 研習證明, guide PDF, 最新消息 attachment, reward run")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
    sys.exit(main())
