"""Telephony Celery tasks (queue "telephony", gevent worker: the ESL client needs gevent)."""

from __future__ import annotations

from celery import shared_task

from apps.telephony.command_runner import run_call_command


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def execute_call_command(self, command_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send a stored call command to FreeSWITCH once; safe to deliver more than once."""
    outcome = run_call_command(command_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.command.status
