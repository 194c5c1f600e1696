"""The Celery application. Workers: `celery -A callcenter worker -Q default,realtime,reports` and a
gevent worker for `-Q telephony` (greenswitch needs gevent)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.dev")

app = Celery("callcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
