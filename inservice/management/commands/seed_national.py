"""manage.py seed_national: write (and with --load, import) a realistic national data set."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from inservice.national_seed import NATIONAL_TEACHERS, generate

KINDS = ("units", "roster", "hours", "plans")


class Command(BaseCommand):
    help = (
        "Write units.csv, roster.csv, hours.csv and plans.csv of a realistic national data set "
        "(deterministic for a given --seed) into --out; --load imports them afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--teachers", type=int, default=NATIONAL_TEACHERS, help="people on the roster")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "bench" / "data"))
        parser.add_argument("--load", action="store_true", help="import the written files (import_data)")

    def handle(self, *args, teachers, seed, out, load, **options):
        started = time.monotonic()
        summary = generate(Path(out), teachers=teachers, seed=seed)
        counts = "、".join(f"{k} {v}" for k, v in summary.as_dict().items())
        self.stdout.write(f"已寫入 {out}（{time.monotonic() - started:.1f} 秒）：{counts}")
        if load:
            for kind in KINDS:
                call_command("import_data", kind, str(Path(out) / f"{kind}.csv"), stdout=self.stdout)
