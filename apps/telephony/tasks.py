"""Telephony Celery tasks (queue "telephony", gevent worker: the ESL client needs gevent)."""

from __future__ import annotations

from celery import shared_task

from apps.telephony import services
from apps.telephony.command_runner import run_call_command, run_call_commands


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def execute_call_command(self, command_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send a stored call command to FreeSWITCH once; safe to deliver more than once."""
    outcome = run_call_command(command_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.command.status


@shared_task(acks_late=True, ignore_result=True)
def execute_call_commands(command_ids: list[int]) -> int:
    """Send several stored call commands (one router batch); return how many were retried.

    Each runs on its own: one failing does not stop the others. A command to retry later gets its
    own ``execute_call_command`` message, so the batch is never run again as a whole.
    """
    retries = run_call_commands(command_ids)
    for command_id, retry_in in retries.items():
        execute_call_command.apply_async(args=[command_id], countdown=retry_in)
    return len(retries)


@shared_task(ignore_result=True)
def sweep_call_commands() -> dict[str, int]:
    """Send again the call commands whose message was lost; fail those too late (beat, 5 s)."""
    sweep = services.call_commands_sweep()
    return {"resent": len(sweep.resent), "expired": len(sweep.expired)}
