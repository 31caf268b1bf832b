"""manage.py export_data KIND FILE: write a SPEC §8 kind to .csv or .xlsx in the import format.

The roster, hours and plans files carry national IDs in clear (decrypted), because an export
must import back: they are the operator's tool, to be handled as personal data.
"""

from django.core.management.base import BaseCommand, CommandError

from core import dataexchange


class Command(BaseCommand):
    help = "Export a SPEC §8 kind to .csv (UTF-8 with BOM) or .xlsx, streaming."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[kind.name for kind in dataexchange.kinds()])
        parser.add_argument("file")

    def handle(self, *args, kind, file, **options):
        if not file.lower().endswith((".csv", ".xlsx")):
            raise CommandError(dataexchange.MSG_UNSUPPORTED_FILE)
        count = dataexchange.export_file(kind, file)
        label = dataexchange.get_kind(kind).label
        self.stdout.write(self.style.SUCCESS(f"{label}（{kind}）匯出完成：{count} 列"))
