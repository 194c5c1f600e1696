"""Telephony domain event handlers: a finished call joins its customer's timeline.

Subscribed in CustomersConfig.ready. Handlers run in the telephony event process, after commit:
call.hungup only queues a task call (one message for the calls that ended in the same few
milliseconds, see apps.core.batched_tasks). The caller is not looked up when a call is created:
whoever needs the customer of a live call (the screen-pop, prepared when the caller queues)
finds them by number in one statement, which a cached resolution would not save.
"""

from __future__ import annotations

from apps.core.batched_tasks import send_soon
from apps.customers.tasks import record_call_interactions
from apps.telephony.domain_events import CallEvent


def on_call_hungup(event: CallEvent) -> None:
    """Record the call on the customer's timeline once its last leg hung up."""
    if event.data.get("call_ended") and event.call_id:
        send_soon(record_call_interactions, event.call_id)
