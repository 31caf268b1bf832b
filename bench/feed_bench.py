"""Nightly feed bench (issue 10): N rows of new kindergarten teachers, then the same feed again.

    DATABASE_URL=… .venv/bin/python bench/feed_bench.py 5000

Writes into the configured database (use a scratch one); prints seconds per run.
"""

import json
import os
import sys
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
django.setup()

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
for label in ("first run", "same feed again"):
    started = time.perf_counter()
    run = feeds.run_feed(FeedSource.KINDERGARTEN, adapter=feeds.FileAdapter(out.name))
    print(label, run.status, run.added, run.unchanged, run.refused, f"{time.perf_counter() - started:.1f} s")
os.unlink(out.name)
