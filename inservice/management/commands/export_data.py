"""manage.py export_data KIND FILE: write a SPEC §8 kind to .csv or .xlsx in the import format.

The roster, hours and plans files carry national IDs in clear (decrypted), because an export
must import back: they are the operator's tool, to be handled as personal data.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.importers import export_units
from courses.importers import export_hours
from planning.importers import export_plans
from teachers.importers import export_roster

EXPORTERS = {
    "units": export_units,
    "roster": export_roster,
    "hours": export_hours,
    "plans": export_plans,
}


class Command(BaseCommand):
    help = "Export units, roster, hours or plans to .csv (UTF-8 with BOM) or .xlsx, streaming."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTERS))
        parser.add_argument("file")

    def handle(self, *args, kind, file, **options):
        if not file.lower().endswith((".csv", ".xlsx")):
            raise CommandError("不支援的檔案類型，請使用 .csv 或 .xlsx")
        count = EXPORTERS[kind](file)
        self.stdout.write(self.style.SUCCESS(f"{kind} 匯出完成：{count} 列"))
