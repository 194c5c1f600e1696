"""The Celery application. Workers: `celery -A callcenter worker -Q default,realtime,reports` and a
gevent worker for `-Q telephony` (greenswitch needs gevent)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.dev")

app = Celery("callcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _warm_up_worker(**kwargs: object) -> None:
    """Load the Chinese segmentation dictionary once per worker process, not on the first search."""
    from apps.search import warm_up

    warm_up()
