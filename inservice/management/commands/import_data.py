"""manage.py import_data KIND FILE: import a SPEC §8 kind from .csv or .xlsx, all or nothing."""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DataError, IntegrityError

from accounts.importers import import_units
from core.dataexchange import NOTICES, PHASES, ImportRefused
from courses.importers import import_hours
from planning.importers import import_plans
from teachers.importers import import_roster

logger = logging.getLogger(__name__)

MSG_DATABASE_REFUSED = "匯入失敗：資料庫拒絕寫入（{error}），未寫入任何資料。請將檔案與時間告知系統管理者。"

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
        NOTICES.clear()
        try:
            counts = IMPORTERS[kind](file)
        except ImportRefused as refused:
            for line in refused.errors.lines():
                self.stderr.write(line)
            raise CommandError(str(refused)) from None
        except (IntegrityError, DataError) as exc:
            # A case the checks above did not foresee. The transaction is rolled back; the
            # database's own message is not shown, since it may quote the offending values.
            logger.exception("import_data %s refused by the database", kind)
            raise CommandError(MSG_DATABASE_REFUSED.format(error=type(exc).__name__)) from None
        for notice in NOTICES:
            self.stdout.write(self.style.WARNING(notice))
        elapsed = time.monotonic() - started
        summary = "、".join(f"{key} {value}" for key, value in counts.items())
        if options["verbosity"] >= 2:
            for name, seconds in PHASES:
                self.stdout.write(f"  {name}: {seconds:.2f} s")
        self.stdout.write(self.style.SUCCESS(f"{kind} 匯入完成（{elapsed:.1f} 秒）：{summary}"))
