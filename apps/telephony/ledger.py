"""The rows one batch of events touches: loaded in a few queries, changed in memory, saved in bulk.

At the target load (500 new calls/s, ~6,000 events/s) a query per event is out of reach, so the
event process hands a whole batch to a ``Ledger``: ``prefetch`` loads every leg, call, recording
and registration the batch names (one query each), the services change the Python objects and
record which fields they changed, and ``flush`` writes them back with bulk inserts and updates in
the batch's transaction. Domain events and browser pushes collected on the way are released only
after commit (``after_commit``).
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import models, transaction

from apps.accounts.models import Agent
from apps.core import realtime
from apps.telephony import bulk, domain_events
from apps.telephony.domain_events import CallEvent
from apps.telephony.models import (
    Call,
    CallLeg,
    CallRecording,
    Cdr,
    EndpointRegistration,
    FreeswitchNode,
)
from apps.telephony.realtime import PushSender, send_group_messages

logger = logging.getLogger(__name__)

# Kinds pushed to the agent's and the team's browsers when they happen on an agent's leg.
# DTMF is never pushed: digits typed in an IVR may be card numbers.
PUSHED_KINDS = frozenset(
    {
        domain_events.CALL_RINGING,
        domain_events.CALL_ANSWERED,
        domain_events.CALL_BRIDGED,
        domain_events.CALL_UNBRIDGED,
        domain_events.CALL_HELD,
        domain_events.CALL_UNHELD,
        domain_events.CALL_RECORDING_STARTED,
        domain_events.CALL_RECORDING_STOPPED,
        domain_events.CALL_HUNGUP,
        domain_events.ENDPOINT_REGISTERED,
        domain_events.ENDPOINT_UNREGISTERED,
    }
)


@dataclass(frozen=True)
class AgentRef:
    id: int
    team_id: int | None
    extension: str


# What emit() keeps until flush: kind, at, call, leg uuid, leg role, agent id, data, push_to.
_PendingEvent = tuple[
    str,
    datetime,
    "Call | None",
    str | None,
    str | None,
    int | None,
    dict[str, Any],
    tuple[int, ...],
]


@dataclass
class _Dirty:
    obj: models.Model
    fields: set[str] = field(default_factory=set)


class LegCache:
    """The calls and legs of one node kept in memory between batches by its only writer.

    Loading them again for every batch would cost a query and hundreds of model instances per
    batch. A call leaves the cache ``grace`` seconds after it ended (late events still find it);
    after a failed batch (whose changes were rolled back) the writer must ``clear`` it.
    """

    def __init__(self, *, grace: float = 120.0, max_legs: int = 200_000) -> None:
        self.grace = grace
        self.max_legs = max_legs
        self.legs: dict[str, CallLeg] = {}
        self.calls: dict[str, Call] = {}
        self.call_legs: dict[str, list[CallLeg]] = defaultdict(list)
        self._ended: deque[tuple[float, str]] = deque()
        self._ending: set[str] = set()

    def clear(self) -> None:
        """Forget everything (the next batches load from the database)."""
        self.legs.clear()
        self.calls.clear()
        self.call_legs.clear()
        self._ended.clear()
        self._ending.clear()

    def forget_ended(self, now: float) -> None:
        """Schedule ended calls for eviction and evict those ended long enough ago."""
        for uuid, call in self.calls.items():
            if call.ended_at is not None and uuid not in self._ending:
                self._ending.add(uuid)
                self._ended.append((now, uuid))
        while self._ended and now - self._ended[0][0] >= self.grace:
            _, uuid = self._ended.popleft()
            self._ending.discard(uuid)
            call = self.calls.get(uuid)
            if call is None or call.ended_at is None:
                continue
            del self.calls[uuid]
            for leg in self.call_legs.pop(uuid, []):
                if self.legs.get(leg.uuid) is leg:
                    del self.legs[leg.uuid]
        if len(self.legs) > self.max_legs:
            logger.warning("leg cache over %d legs: cleared", self.max_legs)
            self.clear()


class Ledger:
    """Hold the rows of one node touched by a batch, and what to announce after commit."""

    def __init__(self, node: FreeswitchNode, cache: LegCache | None = None) -> None:
        self.node = node
        # With a cache (the event process, the node's only writer), the rows of live calls stay
        # loaded between batches; without one (tests, one-off use) each ledger starts empty.
        self.cache = cache or LegCache()
        self.legs = self.cache.legs
        self.calls = self.cache.calls
        self.call_legs = self.cache.call_legs
        self.recordings: dict[int, list[CallRecording]] = defaultdict(list)
        self.registrations: dict[tuple[str, str], EndpointRegistration] = {}
        self.cdrs: dict[int, Cdr] = {}
        self.agents_by_extension: dict[str, AgentRef] = {}
        self.agents_by_id: dict[int, AgentRef] = {}
        self._extensions_checked: set[str] = set()
        self._agent_ids_checked: set[int] = set()
        self.new_calls: list[Call] = []
        self.new_legs: list[CallLeg] = []
        self.new_recordings: list[CallRecording] = []
        self.new_registrations: list[EndpointRegistration] = []
        self._dirty: dict[int, _Dirty] = {}
        self._recordings_loaded: set[int] = set()
        self._pending: list[_PendingEvent] = []
        self.events: list[CallEvent] = []
        self.pushes: list[tuple[str, str, dict[str, Any]]] = []

    # ------------------------------------------------------------------ loading

    def prefetch(
        self,
        *,
        uuids: Iterable[str],
        registration_users: Iterable[tuple[str, str]] = (),
        extensions: Iterable[str] = (),
        agent_ids: Iterable[int] = (),
        recording_leg_uuids: Iterable[str] = (),
    ) -> None:
        """Load every row the batch names, in one query per kind."""
        wanted = {uuid for uuid in uuids if uuid and uuid not in self.legs}
        if wanted:
            loaded: list[Call] = []
            legs = CallLeg.objects.filter(bulk.any_of("uuid", wanted), node=self.node)
            for leg in legs.select_related("call"):
                if self._remember_call(leg.call):
                    loaded.append(leg.call)
                self._remember_leg(leg)
            missing_calls = {uuid for uuid in wanted if uuid not in self.calls}
            if missing_calls:
                calls = Call.objects.filter(bulk.any_of("uuid", missing_calls), node=self.node)
                for call in calls:
                    if self._remember_call(call):
                        loaded.append(call)
            open_calls = [call.pk for call in loaded if call.ended_at is None]
            if open_calls:
                # The legs already known are skipped here rather than excluded in SQL: the cache
                # holds every live leg of the node, far too many to list in a query.
                siblings = CallLeg.objects.filter(bulk.any_of("call_id", open_calls))
                by_id = {call.pk: call for call in self.calls.values() if call.pk}
                for leg in siblings:
                    if leg.uuid in self.legs:
                        continue
                    leg.call = by_id[leg.call_id]
                    self._remember_leg(leg)
        self._load_agents(extensions=set(extensions), agent_ids=set(agent_ids))
        self._load_registrations(set(registration_users))
        self.load_recordings(
            [leg.call for uuid in set(recording_leg_uuids) if (leg := self.legs.get(uuid))]
        )

    def _remember_call(self, call: Call) -> bool:
        if call.uuid in self.calls:
            return False
        self.calls[call.uuid] = call
        return True

    def _remember_leg(self, leg: CallLeg) -> None:
        if leg.uuid in self.legs:
            return
        # One Python object per call row: select_related gives each leg its own copy, and two
        # copies would overwrite each other's changes at flush.
        leg.call = self.calls[leg.call.uuid]
        self.legs[leg.uuid] = leg
        self.call_legs[leg.call.uuid].append(leg)

    def _load_agents(self, *, extensions: set[str], agent_ids: set[int]) -> None:
        # Remember what was asked, found or not: a number that is no agent's is asked once.
        extensions -= self._extensions_checked
        agent_ids -= self._agent_ids_checked
        if not extensions and not agent_ids:
            return
        self._extensions_checked |= extensions
        self._agent_ids_checked |= agent_ids
        query = models.Q(extension__in=extensions) | models.Q(pk__in=agent_ids)
        for agent_id, team_id, extension in Agent.objects.filter(query).values_list(
            "pk", "team_id", "extension"
        ):
            ref = AgentRef(agent_id, team_id, extension)
            self.agents_by_extension[extension] = ref
            self.agents_by_id[agent_id] = ref

    def _load_registrations(self, users: set[tuple[str, str]]) -> None:
        users -= self.registrations.keys()
        if not users:
            return
        names = {username for username, _ in users}
        for registration in EndpointRegistration.objects.filter(node=self.node, username__in=names):
            self.registrations[(registration.username, registration.realm)] = registration

    def load_recordings(self, calls: Iterable[Call]) -> None:
        """Load the recordings of these calls (once per call)."""
        ids = {call.pk for call in calls if call.pk and call.pk not in self._recordings_loaded}
        if not ids:
            return
        self._recordings_loaded.update(ids)
        for recording in CallRecording.objects.filter(bulk.any_of("call_id", ids)):
            self.recordings[recording.leg_id].append(recording)

    # ----------------------------------------------------------------- lookups

    def leg(self, uuid: str | None) -> CallLeg | None:
        """Return a known leg of this node by uuid."""
        if not uuid:
            return None
        return self.legs.get(uuid)

    def agent_by_extension(self, extension: str) -> AgentRef | None:
        """Return the agent with this extension (loaded by prefetch), or None."""
        if extension not in self.agents_by_extension:
            self._load_agents(extensions={extension}, agent_ids=set())
        return self.agents_by_extension.get(extension)

    def agent_by_id(self, agent_id: int) -> AgentRef | None:
        """Return the agent with this id (loaded by prefetch), or None."""
        if agent_id not in self.agents_by_id:
            self._load_agents(extensions=set(), agent_ids={agent_id})
        return self.agents_by_id.get(agent_id)

    def legs_of(self, call: Call) -> list[CallLeg]:
        """Return the known legs of a call (every leg of an open call)."""
        return self.call_legs[call.uuid]

    def leg_recordings(self, leg: CallLeg) -> list[CallRecording]:
        """Return the recordings of a leg (its call's recordings must have been loaded)."""
        return [
            *self.recordings.get(leg.pk, []),
            *(recording for recording in self.new_recordings if recording.leg is leg),
        ]

    def registration(self, username: str, realm: str) -> EndpointRegistration | None:
        """Return the registration row of a directory user, loading it if needed."""
        key = (username, realm)
        if key not in self.registrations:
            self._load_registrations({key})
        return self.registrations.get(key)

    # ----------------------------------------------------------------- changes

    def add_call(self, call: Call) -> None:
        """Register a new call (inserted by flush)."""
        self.calls[call.uuid] = call
        self.new_calls.append(call)

    def add_leg(self, leg: CallLeg) -> None:
        """Register a new leg (inserted by flush)."""
        self.legs[leg.uuid] = leg
        self.call_legs[leg.call.uuid].append(leg)
        self.new_legs.append(leg)

    def add_recording(self, recording: CallRecording) -> None:
        """Register a new recording (inserted by flush)."""
        self.new_recordings.append(recording)

    def add_registration(self, registration: EndpointRegistration) -> None:
        """Register a new endpoint registration row (inserted by flush)."""
        self.registrations[(registration.username, registration.realm)] = registration
        self.new_registrations.append(registration)

    def put_cdr(self, cdr: Cdr) -> None:
        """Insert or replace the CDR of a leg (flush upserts on the leg)."""
        self.cdrs[id(cdr.leg)] = cdr

    def changed(self, obj: models.Model, *fields: str) -> None:
        """Note that these fields of a loaded row changed (flush updates them)."""
        if obj.pk is None:
            return  # inserted whole by flush
        entry = self._dirty.get(id(obj))
        if entry is None:
            entry = self._dirty[id(obj)] = _Dirty(obj)
        entry.fields.update(fields)

    def emit(
        self,
        kind: str,
        *,
        at: datetime,
        call: Call | None = None,
        leg: CallLeg | None = None,
        agent_id: int | None = None,
        data: dict[str, Any] | None = None,
        also_push_to: Iterable[int | None] = (),
    ) -> None:
        """Queue a domain event (and the browser push for an agent's leg) for after commit.

        ``also_push_to`` names other agents whose consoles get the push too (the agent on the
        other side of a bridge FreeSWITCH reported on the caller's leg).
        """
        if agent_id is None and leg is not None:
            agent_id = leg.agent_id
        push_to: tuple[int, ...] = ()
        if agent_id is not None:
            push_to = (agent_id,)
        for other in also_push_to:
            if other is not None and other not in push_to:
                push_to = (*push_to, other)
        # The call's id is known only after flush inserted it: the event is built then
        # (_prepare_announcements), once.
        self._pending.append(
            (
                kind,
                at,
                call,
                leg.uuid if leg is not None else None,
                str(leg.role) if leg is not None else None,
                agent_id,
                data or {},
                push_to,
            )
        )

    # ------------------------------------------------------------------ saving

    def flush(self) -> None:
        """Write every new and changed row (call inside the batch's transaction).

        Flushing again writes only what changed since the previous flush.
        """
        if self.new_calls:
            bulk.insert_rows(Call, self.new_calls)
        if self.new_legs:
            for leg in self.new_legs:
                # Re-assigning the object (now saved) sets call_id and keeps the cached call:
                # setting call_id alone would make Django drop it and fetch a second copy.
                leg.call = leg.call
            bulk.insert_rows(CallLeg, self.new_legs)
        if self.new_recordings:
            for recording in self.new_recordings:
                recording.call = recording.call
                recording.leg = recording.leg
            bulk.insert_rows(CallRecording, self.new_recordings)
        if self.new_registrations:
            bulk.insert_rows(EndpointRegistration, self.new_registrations)
        by_model: dict[type[models.Model], tuple[list[models.Model], set[str]]] = {}
        for entry in self._dirty.values():
            objs, fields = by_model.setdefault(type(entry.obj), ([], set()))
            objs.append(entry.obj)
            fields.update(entry.fields)
        for model, (objs, fields) in by_model.items():
            bulk.update_rows(model, objs, sorted(fields))
        if self.cdrs:
            cdrs = list(self.cdrs.values())
            for cdr in cdrs:
                cdr.leg = cdr.leg
                cdr.call = cdr.call
            bulk.upsert_rows(
                Cdr,
                cdrs,
                conflict=["leg"],
                update=[
                    "answered_at",
                    "ended_at",
                    "duration",
                    "billsec",
                    "hangup_cause",
                    "hangup_cause_q850",
                    "sip_hangup_disposition",
                    "recording_path",
                    "source",
                    "caller",
                    "callee",
                ],
            )
        self.new_calls = []
        self.new_legs = []
        self.new_recordings = []
        self.new_registrations = []
        self._dirty.clear()
        self.cdrs.clear()
        self._prepare_announcements()

    def _prepare_announcements(self) -> None:
        node = self.node.name
        for kind, at, call, leg_uuid, leg_role, agent_id, data, push_to in self._pending:
            event = CallEvent(
                kind=kind,
                node=node,
                occurred_at=at,
                call_id=call.pk if call is not None else None,
                call_uuid=call.uuid if call is not None else None,
                leg_uuid=leg_uuid,
                leg_role=leg_role,
                agent_id=agent_id,
                data=data,
            )
            self.events.append(event)
            if push_to and event.kind in PUSHED_KINDS:
                self._queue_pushes(event, push_to)
        self._pending.clear()

    def _queue_pushes(self, event: CallEvent, agent_ids: tuple[int, ...]) -> None:
        payload = {
            "call_id": event.call_id,
            "call_uuid": event.call_uuid,
            "leg_uuid": event.leg_uuid,
            "leg_role": event.leg_role,
            "agent_id": event.agent_id,
            "occurred_at": event.occurred_at.isoformat(),
            **{key: value for key, value in event.data.items() if key != "cc"},
        }
        for agent_id in agent_ids:
            self.pushes.append((realtime.agent_group(agent_id), event.kind, payload))

    def after_commit(
        self,
        before_publish: Callable[[Ledger], None] | None = None,
        push_sender: PushSender | None = None,
    ) -> None:
        """Send the browser pushes and publish the domain events (once committed).

        ``before_publish(ledger)`` runs first: what must reach FreeSWITCH before any subscriber
        can react (hold music for a parked caller, before the router may bridge it). With a
        ``push_sender`` (the event process) pushes are queued to it instead of sent inline.
        """
        if before_publish is not None:
            try:
                before_publish(self)
            except Exception:  # announcing must go on whatever the hook does
                logger.exception("before_publish hook failed")
        if push_sender is not None:
            push_sender.submit(self.pushes)
        else:
            send_pushes(self.pushes)
        domain_events.publish_all(self.events)

    def schedule_after_commit(
        self,
        before_publish: Callable[[Ledger], None] | None = None,
        push_sender: PushSender | None = None,
    ) -> None:
        """Release announcements when the surrounding transaction commits."""
        transaction.on_commit(lambda: self.after_commit(before_publish, push_sender))


def send_pushes(pushes: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Send group messages through the channel layer now, in one loop run.

    For processes without a ``PushSender`` (web, workers, tests); the event process queues.
    """
    if not pushes:
        return
    layer = get_channel_layer()
    if layer is None:
        return

    try:
        async_to_sync(send_group_messages)(layer, pushes)
    except Exception:  # browser updates must never break ingest
        logger.exception("realtime pushes failed")
