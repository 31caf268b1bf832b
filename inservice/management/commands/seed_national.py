"""manage.py seed_national: write (and with --load, import) a realistic national data set."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core import dataexchange
from inservice.national_seed import NATIONAL_TEACHERS, generate


class Command(BaseCommand):
    help = (
        "Write a .csv of every registered SPEC §8 kind (units, roster, hours, plans) of a realistic national data set "
        "(deterministic for a given --seed) into --out; --load imports them afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--teachers", type=int, default=NATIONAL_TEACHERS, help="people on the roster")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "bench" / "data"))
        parser.add_argument("--load", action="store_true", help="import the written files (import_data)")
        parser.add_argument(
            "--bulk", action="store_true", help="with --load: import_data --bulk (PostgreSQL)"
        )

    def handle(self, *args, teachers, seed, out, load, bulk, **options):
        started = time.monotonic()
        summary = generate(Path(out), teachers=teachers, seed=seed)
        counts = "、".join(f"{k} {v}" for k, v in summary.as_dict().items())
        self.stdout.write(f"已寫入 {out}（{time.monotonic() - started:.1f} 秒）：{counts}")
        if load:
            for kind in dataexchange.kinds():
                flags = ["--bulk"] if bulk and kind.bulk_tables else []
                path = str(Path(out) / f"{kind.name}.csv")
                call_command("import_data", kind.name, path, *flags, stdout=self.stdout)
