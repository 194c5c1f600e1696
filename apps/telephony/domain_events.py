"""Telephony domain events: what happened to calls, endpoints and commands, for other apps.

Other apps subscribe in their ``AppConfig.ready``::

    from apps.telephony import domain_events

    domain_events.subscribe("call.parked", on_call_parked)

Telephony services publish after their transaction commits, so a handler never sees a fact that
was rolled back. Handlers run synchronously in the process that published (the event process or
the telephony worker): keep them quick (enqueue a task, make a small write). A handler that raises
is logged and does not stop the others.

In those two processes (gevent, monkey-patched) handlers run in a native thread of gevent's
threadpool, not on the hub: handlers may use ``async_to_sync`` (channel-layer pushes), whose event
loop would otherwise be "running" on the hub's OS thread while it waits, making Django refuse
every other greenlet's database calls (SynchronousOnlyOperation) and a second concurrent
``async_to_sync`` fail. The publishing greenlet waits cooperatively meanwhile.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from django.db import transaction

logger = logging.getLogger(__name__)

CALL_CREATED: Final = "call.created"
CALL_RINGING: Final = "call.ringing"
CALL_ANSWERED: Final = "call.answered"
CALL_BRIDGED: Final = "call.bridged"
CALL_UNBRIDGED: Final = "call.unbridged"
CALL_PARKED: Final = "call.parked"
CALL_HELD: Final = "call.held"
CALL_UNHELD: Final = "call.unheld"
CALL_DTMF: Final = "call.dtmf"
CALL_RECORDING_STARTED: Final = "call.recording_started"
CALL_RECORDING_STOPPED: Final = "call.recording_stopped"
CALL_HUNGUP: Final = "call.hungup"
ENDPOINT_REGISTERED: Final = "endpoint.registered"
ENDPOINT_UNREGISTERED: Final = "endpoint.unregistered"
COMMAND_SUCCEEDED: Final = "command.succeeded"
COMMAND_FAILED: Final = "command.failed"

KINDS: Final = frozenset(
    {
        CALL_CREATED,
        CALL_RINGING,
        CALL_ANSWERED,
        CALL_BRIDGED,
        CALL_UNBRIDGED,
        CALL_PARKED,
        CALL_HELD,
        CALL_UNHELD,
        CALL_DTMF,
        CALL_RECORDING_STARTED,
        CALL_RECORDING_STOPPED,
        CALL_HUNGUP,
        ENDPOINT_REGISTERED,
        ENDPOINT_UNREGISTERED,
        COMMAND_SUCCEEDED,
        COMMAND_FAILED,
    }
)


@dataclass(frozen=True)
class CallEvent:
    """One telephony fact.

    ``call_id``/``call_uuid`` name the call (absent for endpoint events); ``leg_uuid``,
    ``leg_role`` and ``agent_id`` the leg it happened on, when it happened on one. ``data`` holds
    the kind's own details:

    - call.created: direction, caller_number, callee_number, did
    - call.parked: queue (cc_queue slug), cc (all cc_* variables), customer_id
    - call.hungup: hangup_cause (of the leg; the call's when ``call_ended`` is true), call_ended
    - call.dtmf: digit, source
    - call.bridged / call.unbridged: other_leg_uuid
    - call.recording_started / stopped: path, recording_id
    - endpoint.registered / unregistered: username, realm, contact
    - command.succeeded / failed: command_id, kind, idempotency_key, result / error_code,
      error_message
    """

    kind: str
    node: str
    occurred_at: datetime
    call_id: int | None = None
    call_uuid: str | None = None
    leg_uuid: str | None = None
    leg_role: str | None = None
    agent_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[CallEvent], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(kind: str, handler: Handler) -> None:
    """Call ``handler(event)`` for every published event of this kind ("*" for every kind)."""
    if kind != "*" and kind not in KINDS:
        raise ValueError(f"Unknown telephony event kind: {kind}")
    if handler not in _subscribers[kind]:
        _subscribers[kind].append(handler)


def unsubscribe(kind: str, handler: Handler) -> None:
    """Stop calling a handler subscribed with ``subscribe``."""
    if handler in _subscribers.get(kind, []):
        _subscribers[kind].remove(handler)


def publish(event: CallEvent) -> None:
    """Deliver an event to its subscribers now (callers publish after commit)."""
    for handler in (*_subscribers.get(event.kind, ()), *_subscribers.get("*", ())):
        try:
            handler(event)
        except Exception:  # one subscriber's bug must not starve the others or the ingest loop
            logger.exception("telephony event handler %r failed on %s", handler, event.kind)


def publish_all(events: Iterable[CallEvent]) -> None:
    """Deliver events in order (callers publish after commit)."""
    events = list(events)
    if not events:
        return
    if _on_gevent_hub():
        import gevent

        gevent.get_hub().threadpool.apply(_publish_in_pool, (events,))
        return
    for event in events:
        publish(event)


def _publish_in_pool(events: list[CallEvent]) -> None:
    from django.db import close_old_connections

    _native_local().in_pool = True
    # No request cycle closes this thread's connection: drop it when broken or too old.
    close_old_connections()
    for event in events:
        publish(event)


_NATIVE_LOCAL: Any = None


def _native_local() -> Any:
    """Return a per-OS-thread namespace (monkey-patching makes threading.local per greenlet)."""
    global _NATIVE_LOCAL  # noqa: PLW0603  (created once, lazily: gevent may be absent)
    if _NATIVE_LOCAL is None:
        from gevent import monkey

        _NATIVE_LOCAL = monkey.get_original("threading", "local")()
    return _NATIVE_LOCAL


def _on_gevent_hub() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    if not monkey.is_module_patched("threading"):
        return False
    return not getattr(_native_local(), "in_pool", False)


def publish_on_commit(events: list[CallEvent]) -> None:
    """Deliver events once the current transaction commits (nothing if it rolls back)."""
    if events:
        transaction.on_commit(lambda: publish_all(events))
