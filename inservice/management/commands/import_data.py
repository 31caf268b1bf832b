"""manage.py import_data KIND FILE: import a SPEC §8 kind from .csv or .xlsx, all or nothing."""

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.importers import import_units
from courses.importers import import_hours
from inservice.dataexchange import PHASES, ImportRefused
from planning.importers import import_plans
from teachers.importers import import_roster

IMPORTERS = {
    "units": import_units,
    "roster": import_roster,
    "hours": import_hours,
    "plans": import_plans,
}


class Command(BaseCommand):
    help = (
        "Import units, roster, hours or plans from a .csv (UTF-8, BOM allowed) or .xlsx file with the "
        "SPEC §8 header row. A file with any bad row is refused whole: every bad row is listed by its "
        "line number and nothing is written. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file")

    def handle(self, *args, kind, file, **options):
        started = time.monotonic()
        PHASES.clear()
        try:
            counts = IMPORTERS[kind](file)
        except ImportRefused as refused:
            for line in refused.errors.lines():
                self.stderr.write(line)
            raise CommandError(str(refused)) from None
        elapsed = time.monotonic() - started
        summary = "、".join(f"{key} {value}" for key, value in counts.items())
        if options["verbosity"] >= 2:
            for name, seconds in PHASES:
                self.stdout.write(f"  {name}: {seconds:.2f} s")
        self.stdout.write(self.style.SUCCESS(f"{kind} 匯入完成（{elapsed:.1f} 秒）：{summary}"))
