from __future__ import annotations

from celery import shared_task

from apps.accounts.models import Agent
from apps.core.batched_tasks import for_each
from apps.customers.models import Customer, Direction
from apps.customers.services import interaction_record_call


@shared_task(ignore_result=True)
def record_call_interaction(call_id: int) -> int | None:
    """Put a finished call on its customer's timeline; safe to run twice (once per call uuid).

    Return the interaction id, or None for an anonymous caller or an unknown call.
    """
    from apps.telephony.models import Call, CallLeg

    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        return None
    outbound = call.direction == Call.Direction.OUTBOUND
    customer = Customer.objects.filter(pk=call.customer_id).first() if call.customer_id else None
    agent_leg = (
        CallLeg.objects.filter(call=call, role=CallLeg.Role.AGENT, answered_at__isnull=False)
        .order_by("-answered_at")
        .first()
    )
    agent = (
        Agent.objects.select_related("user").filter(pk=agent_leg.agent_id).first()
        if agent_leg is not None and agent_leg.agent_id
        else None
    )
    interaction = interaction_record_call(
        call_uuid=call.uuid,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        caller_number=call.callee_number if outbound else call.caller_number,
        customer=customer,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        agent=agent.user if agent is not None else None,
        queue=call.queue_slug,
        hangup_cause=call.hangup_cause,
    )
    return interaction.pk if interaction is not None else None


@shared_task(ignore_result=True)
def record_call_interactions(calls: list[list[int]]) -> list[int | None]:
    """Put finished calls on their customers' timelines (a batch of ``[call_id]``, see
    apps.core.batched_tasks)."""
    return for_each(calls, record_call_interaction)
