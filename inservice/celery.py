import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")

app = Celery("inservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every installed app's tasks.py is found (accounts.tasks, rewards.tasks, …).
app.autodiscover_tasks()
