"""The console's WebSocket: one per browser tab, transport only.

On connect it authenticates from the session, checks whose console the user may open
(access.access_console_agent: their own, or an agent they supervise with ``?agent=<id>``), joins
exactly the groups that allows (the user's, the agent's, the agent's queues'), and sends a full
snapshot. Group messages are forwarded in the console protocol (apps.console.protocol); inbound
messages go to services. The user is re-checked (active, allowed, session alive) on every inbound
message and periodically, and a ``session.closed`` push for this session closes the socket.

Costs per socket are kept off the hot path, which with 1,500 agents is dominated by group messages
(screen-pops, queue statistics to every agent of a queue): forwarding a group message touches no
database (channels' per-message ``close_old_connections`` thread hop is skipped for it), and the
periodic re-check is one bulk check of every console of the process (``_SessionSweeper``), not
one set of queries per socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation

from apps.console import protocol, selectors, services
from apps.console.access import access_console_agent
from apps.core.errors import DomainError
from apps.core.realtime import agent_group, queue_group, user_group

logger = logging.getLogger(__name__)

CHECK_INTERVAL_DEFAULT = 60.0
# Group messages: forwarded as they are, without a database query.
GROUP_MESSAGE_TYPES = frozenset({"broadcast"})


def _read(function: Any) -> Any:
    """Run a read in a worker thread of its own: reads of many sockets at once (a reconnect storm
    after a restart, 1,500 agents logging in) run side by side instead of one after another in
    the single thread sync code otherwise shares (settings.CONSOLE_SOCKET_READS_IN_PARALLEL,
    default True; tests whose data lives in one uncommitted transaction turn it off)."""
    parallel = getattr(settings, "CONSOLE_SOCKET_READS_IN_PARALLEL", True)
    return database_sync_to_async(function, thread_sensitive=not parallel)


# The last group messages encoded: channels hands one message object to every socket of the
# group in this process (a queue's statistics to each of its agents), encoded once for all.
_ENCODED: dict[int, tuple[dict[str, Any], str]] = {}
_ENCODED_KEEP = 64


def _encoded(event: dict[str, Any], message: dict[str, Any], message_type: str) -> str:
    cached = _ENCODED.get(id(event))
    if cached is not None and cached[0] is event:
        return cached[1]
    message["type"] = protocol.RENAMED.get(message_type, message_type)
    text = json.dumps(message)
    if len(_ENCODED) >= _ENCODED_KEEP:
        _ENCODED.pop(next(iter(_ENCODED)))
    _ENCODED[id(event)] = (event, text)  # keeps the event alive, so its id is not reused
    return text


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """One console tab."""

    groups: list[str]

    async def connect(self) -> None:
        self.groups = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()
            return
        agent_id = self._query_param("agent")
        try:
            subject = await _read(access_console_agent)(user, agent_id)
        except DomainError:
            await self.close()
            return
        self.user = user
        self.agent = subject.agent
        self.viewing = subject.viewing
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.session_digest = services.session_key_digest(self.session_key)
        self.language = getattr(user, "language", None) or settings.LANGUAGE_CODE
        queues = await _read(selectors.agent_queue_list)(self.agent)
        wanted = [
            user_group(user.pk),
            agent_group(self.agent.pk),
            *(queue_group(queue.pk) for queue in queues),
        ]
        await self.accept()
        for group in wanted:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.append(group)
        # Joined first, snapshot second: anything that happens in between arrives after the
        # snapshot and is newer than it.
        await self.send_snapshot()
        interval = float(getattr(settings, "CONSOLE_SESSION_CHECK_SECONDS", CHECK_INTERVAL_DEFAULT))
        if interval > 0:
            _SessionSweeper.of_this_loop().add(self, interval)

    async def disconnect(self, code: int) -> None:
        _SessionSweeper.of_this_loop().discard(self)
        for group in getattr(self, "groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Forward group messages straight away; everything else as channels does.

        channels runs ``close_old_connections`` in the shared sync thread before every message;
        a group message needs no database, and with a queue's statistics going to every agent
        of the queue those thread hops were most of the web process's event-loop time.
        """
        if message.get("type") in GROUP_MESSAGE_TYPES:
            await self.broadcast(message)
            return
        await super().dispatch(message)

    def _query_param(self, name: str) -> str | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get(name)
        return values[0] if values else None

    # ------------------------------------------------------------------ outbound

    async def send_snapshot(self) -> None:
        snapshot = await _read(self._snapshot)()
        await self.send_json({"type": protocol.SNAPSHOT, **snapshot})

    def _snapshot(self) -> dict[str, Any]:
        with translation.override(self.language):
            return selectors.console_snapshot(
                actor=self.user, agent=self.agent, viewing=self.viewing
            )

    async def broadcast(self, event: dict[str, Any]) -> None:
        """Forward a group message (apps.core.realtime) in the console protocol."""
        message = dict(event.get("message") or {})
        message_type = str(message.get("type") or "")
        if message_type == protocol.SESSION_CLOSED:
            target = message.get("session") or ""
            if target and target != self.session_digest:
                return
            await self.send_json(message)
            await self.close(code=protocol.CLOSE_SESSION_ENDED)
            return
        await self.send(text_data=_encoded(event, message, message_type))

    # ------------------------------------------------------------------ inbound

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not await self._still_allowed():
            await self._close_session("disabled")
            return
        if not isinstance(content, dict):
            return
        message_type = content.get("type")
        request_id = content.get("request_id")
        try:
            if message_type == "ping":
                await self.send_json({"type": protocol.PONG, "request_id": request_id})
            elif message_type == "resync":
                await self.send_snapshot()
            elif message_type == "interaction.refresh":
                await self.send_json(await _read(self._interaction)())
            elif message_type == "state.set":
                await database_sync_to_async(self._set_state)(
                    str(content.get("state") or ""), str(content.get("reason") or "")
                )
            elif message_type == "notification.read":
                ids = content.get("ids") if isinstance(content.get("ids"), list) else []
                await database_sync_to_async(services.notification_mark_read)(
                    user=self.user, ids=ids
                )
            else:
                await self.send_json(
                    {
                        "type": protocol.ERROR,
                        "request_id": request_id,
                        "code": "unknown_message",
                        "message": "",
                    }
                )
        except DomainError as error:
            await self.send_json(
                {
                    "type": protocol.ERROR,
                    "request_id": request_id,
                    "code": error.code,
                    "message": error.message,
                }
            )

    def _interaction(self) -> dict[str, Any]:
        with translation.override(self.language):
            return {
                "type": protocol.INTERACTION,
                "interaction": selectors.current_interaction(self.agent),
                "recent": selectors.recent_interactions(self.agent),
            }

    def _set_state(self, state: str, reason: str) -> None:
        with translation.override(self.language):
            services.agent_state_request(
                actor=self.user, agent=self.agent, state=state, reason=reason
            )

    # ------------------------------------------------------------------ session checks

    def session_check(self) -> services.ConsoleCheck:
        """What the periodic re-check verifies for this socket."""
        return services.ConsoleCheck(
            user_id=self.user.pk,
            session_key=self.session_key,
            agent_id=self.agent.pk if self.viewing else None,
        )

    async def _still_allowed(self) -> bool:
        check = self.session_check()
        return await _read(services.console_user_still_allowed)(
            user_id=check.user_id, session_key=check.session_key, agent_id=check.agent_id
        )

    async def _close_session(self, reason: str) -> None:
        await self.send_json({"type": protocol.SESSION_CLOSED, "reason": reason, "session": ""})
        await self.close(code=protocol.CLOSE_SESSION_ENDED)


class _SessionSweeper:
    """Re-checks every open console of this process (one per event loop) in one bulk check per
    interval: a few queries a minute for the whole process instead of a few per socket (1,500
    agents made that 25 checks a second, the web process's largest cost)."""

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SessionSweeper] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.consoles: dict[ConsoleConsumer, None] = {}  # insertion-ordered set
        self.interval = CHECK_INTERVAL_DEFAULT
        self.task: asyncio.Task | None = None

    @classmethod
    def of_this_loop(cls) -> _SessionSweeper:
        loop = asyncio.get_running_loop()
        sweeper = cls._by_loop.get(loop)
        if sweeper is None:
            sweeper = cls._by_loop[loop] = cls()
        return sweeper

    def add(self, console: ConsoleConsumer, interval: float) -> None:
        self.consoles[console] = None
        self.interval = interval
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    def discard(self, console: ConsoleConsumer) -> None:
        self.consoles.pop(console, None)
        if not self.consoles and self.task is not None:
            self.task.cancel()  # nothing left to check; the next console starts it again
            self.task = None

    async def _run(self) -> None:
        while self.consoles:
            await asyncio.sleep(self.interval)
            consoles = list(self.consoles)
            if not consoles:
                return
            try:
                allowed = await _read(services.console_sockets_still_allowed)(
                    [console.session_check() for console in consoles]
                )
            except Exception:  # a database hiccup must not close the consoles
                logger.exception("console session check failed")
                continue
            refused = [c for c, ok in zip(consoles, allowed, strict=True) if not ok]
            for console in refused:
                self.consoles.pop(console, None)
            if refused:
                await asyncio.gather(
                    *(console._close_session("disabled") for console in refused),
                    return_exceptions=True,
                )
