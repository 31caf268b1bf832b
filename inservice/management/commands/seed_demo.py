from django.core.management.base import BaseCommand

from inservice.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, build_demo


class Command(BaseCommand):
    help = "Build the demo county (屏東縣) with one account per role; safe to run again."

    def handle(self, *args, **options):
        counts = build_demo()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        )
        self.stdout.write(
            f"Accounts teacher1 chief1 contact1 clerk1 region1 operator1, password {DEMO_PASSWORD}"
        )
        self.stdout.write(
            f"Business accounts' TOTP secret: {DEMO_TOTP_SECRET} (manage.py demo_totp prints the code)"
        )
