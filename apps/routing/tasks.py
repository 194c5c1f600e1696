"""Routing Celery tasks (queue "realtime"): thin, idempotent, safe to run twice.

Routing decisions on events are made by the router process (``manage.py run_router``, fed by
events.py); ``route_waiting_call`` and ``route_available_agent`` are no longer enqueued, and stay
only for messages queued before that change.
"""

from __future__ import annotations

from celery import shared_task

from apps.routing import router, sweep


@shared_task(acks_late=True, ignore_result=True)
def route_waiting_call(waiting_call_id: int) -> bool:
    """Try to offer a waiting call to an agent (a call joined the line or came back to it)."""
    return router.route_call(waiting_call_id) is not None


@shared_task(acks_late=True, ignore_result=True)
def route_available_agent(agent_id: int) -> bool:
    """Try to give an agent who became available their best waiting call."""
    return router.route_agent(agent_id) is not None


# A sweep that waited more than a second in the broker is superseded by the next one.
@shared_task(acks_late=False, ignore_result=True, expires=1.0)
def router_sweep() -> bool:
    """Run the periodic routing sweep (Celery beat, every second)."""
    return sweep.run_sweep().ran
