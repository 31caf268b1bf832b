"""manage.py rotate_national_id_keys [--status] [--batch-size N] [--queue]: stage 3 of a national-ID
key rotation (docs/operations.md): re-encrypt every stored copy and recompute every digest with the
writer keys, in batches, resuming an interrupted run. --status prints the progress only."""

from django.core.management.base import BaseCommand

from accounts import key_rotation, national_id
from accounts.tasks import rotate_national_id_keys


class Command(BaseCommand):
    help = "Re-key every stored national ID to the writer keys (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="print the progress and stop")
        parser.add_argument("--batch-size", type=int, default=key_rotation.BATCH_SIZE)
        parser.add_argument("--queue", action="store_true", help="run on a Celery worker instead")

    def _print(self, progress):
        for p in progress:
            state = "完成" if p.finished else "進行中" if p.done else "未開始"
            self.stdout.write(
                f"{p.store}: {p.done}/{p.total} ({p.percent}%) re-keyed {p.changed}, pass {p.passes}, {state}"
            )

    def handle(self, *args, status, batch_size, queue, **options):
        self.stdout.write(
            f"keys: {len(national_id.fernet_keys())} encryption, {len(national_id.hmac_keys())} look-up"
        )
        if status:
            self._print(key_rotation.progress())
            self.stdout.write("the old keys may be dropped" if key_rotation.complete() else "not complete")
            return
        if queue:
            result = rotate_national_id_keys.delay(batch_size)
            self.stdout.write(f"queued: task {result.id}; follow with --status")
            return
        self._print(key_rotation.rotate(batch_size=batch_size, on_progress=self._print))
        self.stdout.write("the old keys may be dropped" if key_rotation.complete() else "not complete")
