import time

from celery import shared_task
from django.core.cache import cache

WORKER_HEARTBEAT_KEY = "celery-beat-heartbeat"


@shared_task(acks_late=False, ignore_result=True)
def record_worker_heartbeat() -> None:
    """Record that beat scheduled and a worker ran a task, for the operations page."""
    cache.set(WORKER_HEARTBEAT_KEY, time.time(), timeout=300)
