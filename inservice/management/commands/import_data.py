"""manage.py import_data KIND FILE [--bulk]: import a SPEC §8 kind from .csv or .xlsx, all or nothing.

The kinds are those the apps registered with core.dataexchange; the same import runs from a
Celery task or a web upload through `core.dataexchange.import_file`.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core import dataexchange

MSG_BULK_LOCKS = "--bulk：重建下列資料表的索引與外鍵，至匯入結束前鎖定（期間用到它們的頁面都須等待）：{locks}"
MSG_DONE = "{label}（{kind}）匯入完成（{seconds:.1f} 秒）：{summary}"


class Command(BaseCommand):
    help = (
        "Import a SPEC §8 kind from a .csv (UTF-8, BOM allowed) or .xlsx file with its header row. "
        "A file with any bad row is refused whole: every bad row is listed by its line number and "
        "nothing is written. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[kind.name for kind in dataexchange.kinds()])
        parser.add_argument("file")
        parser.add_argument(
            "--bulk",
            action="store_true",
            help=(
                "PostgreSQL, for a first national load: drop the kind's keys and indexes and rebuild "
                "them once. Locks those tables (and writes to the tables they refer to) until the "
                "import commits; the command lists them before it starts."
            ),
        )

    def handle(self, *args, kind, file, bulk, **options):
        spec = dataexchange.get_kind(kind)
        if bulk:
            if not dataexchange.is_postgresql(connection):
                raise CommandError(dataexchange.MSG_BULK_NEEDS_POSTGRESQL)
            locks = dataexchange.bulk_locks(connection, spec.bulk_tables)
            listed = "、".join(f"{table}（{waits}）" for table, waits in locks) or "無"
            self.stdout.write(self.style.WARNING(MSG_BULK_LOCKS.format(locks=listed)))
        try:
            result = dataexchange.import_file(kind, file, bulk=bulk)
        except dataexchange.ImportRefused as refused:
            for line in refused.messages:
                self.stderr.write(line)
            raise CommandError(str(refused)) from None
        for notice in result.notices:
            self.stdout.write(self.style.WARNING(notice))
        if options["verbosity"] >= 2:
            for name, seconds in result.phases:
                self.stdout.write(f"  {name}：{seconds:.2f} 秒")
        self.stdout.write(
            self.style.SUCCESS(
                MSG_DONE.format(label=spec.label, kind=kind, seconds=result.seconds, summary=result.summary())
            )
        )
