from celery import shared_task

from apps.tickets.services import tickets_sla_sweep


@shared_task(ignore_result=True, acks_late=False)
def sla_sweep() -> int:
    """Announce SLA warnings and escalate breaches (beat, every minute); safe to run twice."""
    return tickets_sla_sweep()
