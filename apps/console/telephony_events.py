"""Telephony domain events the console reacts to (subscribed in ConsoleConfig.ready).

Handlers run where telephony publishes (the event process, or the telephony worker for command
outcomes), after commit, so each is small: popping a screen is one cache read (the screen-pop
was prepared by the realtime worker when the caller entered the queue) and one push, a command
outcome one push, a caller joining a queue one task message (the realtime worker prepares the
screen-pop and counts the queue), a caller leaving it one or two Redis writes.
Telephony itself pushes the agent-leg events (ringing, answered, held, hung up...).

In the event process each lane is an ordered queue with its own greenlet (see
``domain_events``): what an agent waits for (screen-pops, control outcomes) has a lane of its own,
and so has the queued caller whose screen-pop must be prepared before the ring, so neither queues
behind the other, nor behind the queue statistics, nor behind other apps' handlers.
"""

from __future__ import annotations

import logging

from apps.console import services
from apps.telephony import domain_events
from apps.telephony.domain_events import CallEvent
from apps.telephony.models import Call

logger = logging.getLogger(__name__)

# Legs that belong to an agent: routed to them, or a consultation they were asked to join.
AGENT_ROLES = frozenset({"agent", "consult"})
CUSTOMER_ROLES = frozenset({"caller", "callee"})


def _is_agent_leg(event: CallEvent) -> bool:
    return bool(event.agent_id and event.call_id and event.leg_role in AGENT_ROLES)


def on_agent_leg_ringing(event: CallEvent) -> None:
    """The agent's phone rings: pop the caller's screen."""
    if _is_agent_leg(event):
        services.screen_pop_push(
            call_id=event.call_id,  # type: ignore[arg-type]
            agent_id=event.agent_id,  # type: ignore[arg-type]
            phase="offer",
            leg_uuid=event.leg_uuid,
            leg_role=event.leg_role,
            occurred_at=event.occurred_at,
        )


def on_agent_leg_answered(event: CallEvent) -> None:
    """The agent answered: pop the screen again (a tab opened meanwhile gets it too)."""
    if _is_agent_leg(event):
        services.screen_pop_push(
            call_id=event.call_id,  # type: ignore[arg-type]
            agent_id=event.agent_id,  # type: ignore[arg-type]
            phase="answer",
            leg_uuid=event.leg_uuid,
            leg_role=event.leg_role,
            occurred_at=event.occurred_at,
        )


def on_call_parked(event: CallEvent) -> None:
    """A caller joined a queue's line: have their screen-pop prepared by the realtime worker and
    the queue's figures refreshed."""
    queue_slug = str(event.data.get("queue") or "")
    if queue_slug and event.leg_role in (None, "caller"):
        if event.call_id:
            services.caller_queued_later(call_id=event.call_id, queue_slug=queue_slug)
        else:
            services.queue_stats_changed(queue_slug=queue_slug)


def on_leg_hungup(event: CallEvent) -> None:
    """A caller left a queue's line (answered or gave up)."""
    if not event.call_id or event.leg_role not in CUSTOMER_ROLES:
        return
    queue_slug = event.data.get("queue")
    if queue_slug is None:  # an event built elsewhere than the ledger, which names it
        queue_slug = (
            Call.objects.filter(pk=event.call_id).values_list("queue_slug", flat=True).first()
        )
    if queue_slug:
        services.queue_stats_changed(queue_slug=queue_slug)


def on_command_finished(event: CallEvent) -> None:
    """Tell the agent what became of a call control the console asked for."""
    data = event.data
    services.control_outcome_push(
        idempotency_key=str(data.get("idempotency_key") or ""),
        succeeded=event.kind == domain_events.COMMAND_SUCCEEDED,
        kind=str(data.get("kind") or ""),
        error_code=str(data.get("error_code") or ""),
        error_message=str(data.get("error_message") or ""),
        command_id=data.get("command_id"),
    )


AGENT_LANE = "console.agent"
QUEUED_LANE = "console.queued"
QUEUES_LANE = "console.queues"


def subscribe() -> None:
    """Subscribe the console to the telephony events it reacts to."""
    # Its own lane, never behind the screen-pops it prepares: the realtime worker must have built
    # the caller's screen-pop before their agent's phone rings.
    domain_events.subscribe(domain_events.CALL_PARKED, on_call_parked, lane=QUEUED_LANE)
    for kind, handler in (
        (domain_events.CALL_RINGING, on_agent_leg_ringing),
        (domain_events.CALL_ANSWERED, on_agent_leg_answered),
        (domain_events.COMMAND_SUCCEEDED, on_command_finished),
        (domain_events.COMMAND_FAILED, on_command_finished),
    ):
        domain_events.subscribe(kind, handler, lane=AGENT_LANE)
    domain_events.subscribe(domain_events.CALL_HUNGUP, on_leg_hungup, lane=QUEUES_LANE)
