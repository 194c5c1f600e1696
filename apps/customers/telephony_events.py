"""Telephony domain event handlers: the caller becomes a customer, the call joins their timeline.

Subscribed in CustomersConfig.ready. Handlers run in the telephony event process: call.created
does one indexed read and a cache write; call.hungup only enqueues a task.
"""

from __future__ import annotations

from apps.core.transactions import enqueue_on_commit
from apps.customers.services import call_customer_resolve
from apps.customers.tasks import record_call_interaction
from apps.telephony.domain_events import CallEvent


def on_call_created(event: CallEvent) -> None:
    """Resolve the caller of a new inbound call to a customer for the screen-pop."""
    if not event.call_uuid or event.data.get("direction") != "inbound":
        return
    call_customer_resolve(
        call_uuid=event.call_uuid, caller_number=event.data.get("caller_number") or None
    )


def on_call_hungup(event: CallEvent) -> None:
    """Record the call on the customer's timeline once its last leg hung up."""
    if event.data.get("call_ended") and event.call_id:
        enqueue_on_commit(record_call_interaction, event.call_id)
