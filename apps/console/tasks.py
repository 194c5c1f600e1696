"""Console Celery tasks (queue "realtime"): callback reminders and folded queue statistics."""

from __future__ import annotations

from celery import shared_task

from apps.console import services

NOT_DUE_RETRY_SECONDS = 30


@shared_task(bind=True, queue="realtime", acks_late=True, ignore_result=True, max_retries=None)
def callback_due(self, callback_id: int) -> str:  # type: ignore[no-untyped-def]
    """Remind the agent of a callback once it is due; safe to deliver more than once."""
    outcome = services.callback_mark_due(callback_id=callback_id)
    if outcome == services.CALLBACK_NOT_DUE:
        raise self.retry(countdown=NOT_DUE_RETRY_SECONDS)
    return outcome


@shared_task(queue="realtime", ignore_result=True)
def push_queue_stats(queue_id: int) -> None:
    """Push a queue's current statistics (the trailing push of a burst of changes)."""
    services.queue_stats_push(queue_id=queue_id)
