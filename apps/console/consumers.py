"""The console's WebSocket: one per browser tab, transport only.

On connect it authenticates from the session, checks whose console the user may open
(access.access_console_agent: their own, or an agent they supervise with ``?agent=<id>``), joins
exactly the groups that allows (the user's, the agent's, the agent's queues'), and sends a full
snapshot. Group messages are forwarded in the console protocol (apps.console.protocol); inbound
messages go to services. The user is re-checked (active, allowed, session alive) on every inbound
message and periodically, and a ``session.closed`` push for this session closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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


def _read(function: Any) -> Any:
    """Run a read in a worker thread of its own: reads of many sockets at once (a reconnect storm
    after a restart, 1,500 agents logging in) run side by side instead of one after another in
    the single thread sync code otherwise shares (settings.CONSOLE_SOCKET_READS_IN_PARALLEL,
    default True; tests whose data lives in one uncommitted transaction turn it off)."""
    parallel = getattr(settings, "CONSOLE_SOCKET_READS_IN_PARALLEL", True)
    return database_sync_to_async(function, thread_sensitive=not parallel)


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """One console tab."""

    groups: list[str]

    async def connect(self) -> None:
        self.groups = []
        self._checker: asyncio.Task | None = None
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
            self._checker = asyncio.create_task(self._check_periodically(interval))

    async def disconnect(self, code: int) -> None:
        checker = getattr(self, "_checker", None)
        if checker is not None:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
        for group in getattr(self, "groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)

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
        message["type"] = protocol.RENAMED.get(message_type, message_type)
        await self.send_json(message)

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

    async def _still_allowed(self) -> bool:
        return await _read(services.console_user_still_allowed)(
            user_id=self.user.pk,
            session_key=self.session_key,
            agent_id=self.agent.pk if self.viewing else None,
        )

    async def _close_session(self, reason: str) -> None:
        await self.send_json({"type": protocol.SESSION_CLOSED, "reason": reason, "session": ""})
        await self.close(code=protocol.CLOSE_SESSION_ENDED)

    async def _check_periodically(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                allowed = await self._still_allowed()
            except Exception:  # a database hiccup must not close the console
                logger.exception("console session check failed")
                continue
            if not allowed:
                await self._close_session("disabled")
                return
