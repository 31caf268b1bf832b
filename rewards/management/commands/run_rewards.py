"""manage.py run_rewards --year 113: start the year-end reward job, wait for it, print the summary."""

import time

from django.core.management.base import BaseCommand, CommandError

from rewards import services
from rewards.models import RewardRun, RunStatus


class Command(BaseCommand):
    help = (
        "Queue the SPEC §7 reward job for an academic year (ROC), wait while a Celery worker runs it "
        "(or run it in-process when Celery is eager) and print A, the population and the awards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="ROC academic year, e.g. 113")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for the worker")

    def handle(self, *args, year, timeout, **options):
        try:
            run = services.reward_run_start(actor=None, year=year, via="command")
        except services.RewardError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"第 {year} 學年度獎勵作業已啟動（編號 {run.pk}），等待執行…")
        deadline = time.monotonic() + timeout
        last = None
        while True:
            run = RewardRun.objects.get(pk=run.pk)
            if not run.is_active:
                break
            services.reward_runs_reap_interrupted()
            stage, percent = services.progress_of(run)
            if (stage, percent) != last:
                self.stdout.write(f"  {stage} {percent}%")
                last = (stage, percent)
            if time.monotonic() > deadline:
                raise CommandError(
                    f"等待逾時（{timeout} 秒），作業編號 {run.pk} 仍為「{run.get_status_display()}」；"
                    "請確認 Celery 工作程序正在執行（make worker）。"
                )
            time.sleep(0.5)
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"第 {year} 學年度獎勵作業{run.get_status_display()}：{run.error}")
        s = run.summary
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"第 {year} 學年度獎勵作業完成（{seconds:.1f} 秒）\n"
                f"  全國平均 A：{s['national_average']} 小時（組距 i = {s['class_width']}）\n"
                f"  教師母體：{s['population']} 人\n"
                f"  獲獎教師：{s['teachers_awarded']} / {s['teachers']}\n"
                f"  獲獎學校：{s['schools_awarded']} / {s['schools']}\n"
                f"  獲獎主管機關：{s['authorities_awarded']} / {s['authorities']}"
            )
        )
