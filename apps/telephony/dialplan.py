"""Where an inbound number (DID) enters the suite: the hook the IVR registers, and the safe default.

The IVR app owns flows and the DID -> flow mapping; telephony only asks, through a resolver it
registers in its ``AppConfig.ready``::

    from apps.telephony.dialplan import EntryPoint, register_entry_point_resolver

    def entry_point_for(did: str, fields: Mapping[str, str]) -> EntryPoint | None:
        ...  # None: this number is not ours

    register_entry_point_resolver(entry_point_for)

Whatever the resolver answers, the dialplan built from it always ends in the safe destination
(park, with the default queue in ``cc_queue`` unless the IVR chose another), so a caller never
meets dead air or a dead end when the IVR fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class EntryPoint:
    """How a DID is answered: the IVR's httapi URL (or none: straight to the queue)."""

    httapi_url: str | None = None
    queue: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)


Resolver = Callable[[str, Mapping[str, str]], "EntryPoint | None"]

_resolvers: list[Resolver] = []


def register_entry_point_resolver(resolver: Resolver) -> None:
    """Ask ``resolver(did, fields)`` for the entry point of inbound numbers (first answer wins)."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def unregister_entry_point_resolver(resolver: Resolver) -> None:
    """Stop asking a resolver registered with ``register_entry_point_resolver``."""
    if resolver in _resolvers:
        _resolvers.remove(resolver)


def default_queue() -> str:
    """Return the queue a caller waits in when nobody chose one."""
    return settings.FREESWITCH_DEFAULT_QUEUE


def entry_point_for(did: str, fields: Mapping[str, str]) -> EntryPoint | None:
    """Return the entry point of a DID, or None when no resolver claims it."""
    for resolver in _resolvers:
        entry = resolver(did, fields)
        if entry is not None:
            return entry
    return None
