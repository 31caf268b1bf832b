import os
from pathlib import Path

from celery import Celery, signals
from django.conf import settings  # lazy: read once the app is configured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")

app = Celery("inservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every installed app's tasks.py is found (accounts.tasks, rewards.tasks, …).
app.autodiscover_tasks()


@signals.beat_init.connect
def _state_dir(**_kwargs):
    # Beat's schedule file goes to the state folder (settings.STATE_DIR), never the working directory.
    Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
