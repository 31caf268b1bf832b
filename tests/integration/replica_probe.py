"""Run by tests/integration/test_replica.py in its own process, with DATABASE_URL (the primary)
and DATABASE_REPLICA_URL (the streaming replica) of a cluster pair the test made.

    python -m tests.integration.replica_probe seed CODE   → a course on the primary
    python -m tests.integration.replica_probe read CODE   → JSON: per page, queries per alias

"read" also makes writes (a signed-in visit saves its session; a settings change): the replica
must see none of them.
"""

import datetime as dt
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import OperationalError, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from accounts.models import Stage, Unit, UnitKind  # noqa: E402
from courses.models import Course, CourseStatus  # noqa: E402


class _Down:
    """Stands for the capture of a replica that is down (CaptureQueriesContext would connect)."""

    captured_queries: list = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def capture_replica():
    try:
        connections["replica"].ensure_connection()
    except OperationalError:
        return _Down()
    return CaptureQueriesContext(connections["replica"])


WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "TRUNCATE")


def seed(code: str) -> None:
    authority, _ = Unit.objects.get_or_create(
        code="99000", defaults={"name": "演練縣政府", "kind": UnitKind.AUTHORITY}
    )
    school, _ = Unit.objects.get_or_create(
        code="999601",
        defaults={
            "name": "演練國小",
            "kind": UnitKind.SCHOOL,
            "authority": authority,
            "stage": Stage.PRIMARY,
        },
    )
    Course.objects.create(
        code=code,
        title=f"複本演練課程{code}",
        organiser=school,
        authority=authority,
        start_date=dt.date(2026, 9, 1),
        end_date=dt.date(2026, 9, 1),
        hours=3,
        status=CourseStatus.CONFIRMED,
    )


def read(code: str) -> dict:
    setup_test_environment()  # the test client's Host and the captured queries
    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    pages = {
        "search": f"/courses/?code={code}",
        "detail": f"/courses/{code}/",
        "statistics": "/statistics/",
    }
    out = {}
    for name, path in pages.items():
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            capture_replica() as replica,
        ):
            response = client.get(path)
        out[name] = {
            "status": response.status_code,
            "found": f"複本演練課程{code}" in response.content.decode(),
            "primary": len(primary.captured_queries),
            # The page's own reads (core.replica's check of the standby is not one).
            "replica": sum("pg_is_in_recovery" not in q["sql"] for q in replica.captured_queries),
            "replica_writes": [
                q["sql"] for q in replica.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
            ],
        }
    # A write path: a signed-in visit (its session is saved) and an update, both on the primary.
    with capture_replica() as replica:
        client.get("/accounts/login/")
        Course.objects.filter(code=code).update(place="演練場地")
    out["writes_on_replica"] = [
        q["sql"] for q in replica.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]
    return out


if __name__ == "__main__":
    action, code = sys.argv[1], sys.argv[2]
    if action == "seed":
        seed(code)
    else:
        print(json.dumps(read(code)))
