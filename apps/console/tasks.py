"""Console Celery tasks (queue "realtime"): callback reminders, queue statistics and screen-pops
prepared ahead of the ring."""

from __future__ import annotations

from celery import shared_task

from apps.console import services
from apps.core.batched_tasks import for_each

NOT_DUE_RETRY_SECONDS = 30


@shared_task(bind=True, queue="realtime", acks_late=True, ignore_result=True, max_retries=None)
def callback_due(self, callback_id: int) -> str:  # type: ignore[no-untyped-def]
    """Remind the agent of a callback once it is due; safe to deliver more than once."""
    outcome = services.callback_mark_due(callback_id=callback_id)
    if outcome == services.CALLBACK_NOT_DUE:
        raise self.retry(countdown=NOT_DUE_RETRY_SECONDS)
    return outcome


@shared_task(queue="realtime", ignore_result=True)
def push_queue_stats(queue_slug: str) -> None:
    """Push a queue's current statistics."""
    services.queue_stats_push(queue_slug=queue_slug)


@shared_task(queue="realtime", ignore_result=True)
def prepare_screen_pop(call_id: int) -> None:
    """Build and keep a queued caller's screen-pop before an agent is rung (messages queued
    before caller_queued existed)."""
    services.screen_pop_prepare(call_id=call_id)


@shared_task(queue="realtime", ignore_result=True)
def prepare_screen_pops(calls: list[list[int]]) -> None:
    """Build and keep queued callers' screen-pops before an agent is rung (a batch of
    ``[call_id]``, see apps.core.batched_tasks)."""
    for_each(calls, lambda call_id: services.screen_pop_prepare(call_id=call_id))


@shared_task(queue="realtime", ignore_result=True)
def caller_queued(call_id: int, queue_slug: str) -> None:
    """Prepare a queued caller's screen-pop and refresh their queue's figures (messages sent
    before prepare_screen_pops existed)."""
    services.caller_queued(call_id=call_id, queue_slug=queue_slug)
