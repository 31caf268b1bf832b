"""SQLite, the embedded default, holds concurrent writes (issue 9, point 14).

The demo and a laptop run on a SQLite file served by several threads; without WAL, immediate
transactions and a busy timeout, two requests that read and then write in one transaction make
one of them fail at once with "database is locked" (three 500s out of four applications).
"""

import threading
import time

from django.db import connections, transaction

from inservice.settings import database_from_url

THREADS = 6
TRANSACTIONS_PER_THREAD = 5


def test_sqlite_default_is_configured_as_a_server():
    config = database_from_url("sqlite:////tmp/inservice-example.db")
    options = config["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert "synchronous=NORMAL" in options["init_command"]
    assert options["timeout"] >= 10


def test_postgresql_gets_no_sqlite_options():
    config = database_from_url("postgres://postgres@127.0.0.1:5432/example")
    assert "transaction_mode" not in config.get("OPTIONS", {})


def test_sqlite_file_takes_concurrent_read_then_write_transactions(tmp_path, django_db_blocker):
    alias = "sqlite_concurrency"
    config = database_from_url(f"sqlite:///{tmp_path / 'concurrent.db'}")
    config["CONN_MAX_AGE"] = 0
    connections.settings[alias] = connections.configure_settings({"default": dict(config), alias: config})[
        alias
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker():
        try:
            start.wait()
            for _ in range(TRANSACTIONS_PER_THREAD):
                # Read, then write, in one transaction: what an application or an enable does.
                with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                    cursor.execute("SELECT COALESCE(MAX(n), 0) FROM counter")
                    (latest,) = cursor.fetchone()
                    time.sleep(0.005)
                    cursor.execute("INSERT INTO counter (n) VALUES (%s)", [latest + 1])
        except BaseException as error:  # noqa: BLE001 - any failure of a thread fails the test
            errors.append(error)
        finally:
            connections[alias].close()

    try:
        with django_db_blocker.unblock():
            with connections[alias].cursor() as cursor:
                cursor.execute("CREATE TABLE counter (n INTEGER NOT NULL UNIQUE)")
            connections[alias].close()
            threads = [threading.Thread(target=worker) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT COUNT(*), MAX(n) FROM counter")
                assert cursor.fetchone() == (THREADS * TRANSACTIONS_PER_THREAD,) * 2
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone()[0] == "wal"
            connections[alias].close()
    finally:
        del connections.settings[alias]
