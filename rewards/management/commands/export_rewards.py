"""manage.py export_rewards --year 113 --out FILE: the SPEC §8 reward export (.csv or .xlsx)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.permissions import UnitScope
from rewards import exports, selectors


class Command(BaseCommand):
    help = (
        "Write the published reward lists of a year (authorities, schools, teachers) with the SPEC §8 "
        "columns. The file carries national IDs: handle it as personal data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", required=True)

    def handle(self, *args, year, out, **options):
        if not out.lower().endswith((".csv", ".xlsx")):
            raise CommandError("不支援的檔案類型，請使用 .csv 或 .xlsx")
        if selectors.published_run(year) is None:
            raise CommandError(f"第 {year} 學年度尚無已完成的獎勵作業，請先執行 run_rewards --year {year}")
        count = exports.write(out, UnitScope(None, everything=True), year)
        self.stdout.write(self.style.SUCCESS(f"第 {year} 學年度獎勵名單匯出完成：{count} 列 → {out}"))
