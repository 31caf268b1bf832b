from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.roc import format_roc_datetime
from planning.models import PlanningCycle
from planning.services import roster_snapshot_take


class Command(BaseCommand):
    help = "Take a cycle's roster snapshot (教師名單) by hand; a rerun for the same cycle changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="academic year (ROC), e.g. 113")

    def handle(self, *args, year: int, **options):
        cycle = PlanningCycle.objects.filter(year=year).first()
        if cycle is None:
            raise CommandError(f"沒有 {year} 學年度的進修規劃年度")
        snapshot, written = roster_snapshot_take(cycle_id=cycle.pk)
        if written:
            self.stdout.write(self.style.SUCCESS(f"{year} 學年度教師名單已建立：{written} 筆"))
        else:
            taken = format_roc_datetime(timezone.localtime(snapshot.taken_at))  # Asia/Taipei
            self.stdout.write(
                f"{year} 學年度教師名單已於 {taken} 建立（{snapshot.entries.count()} 筆），未變更"
            )
