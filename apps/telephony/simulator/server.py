"""Run the simulator: :class:`Simulator` on an asyncio loop, :class:`SimulatorServer` in a thread.

Tests and synchronous code use :class:`SimulatorServer` (or :func:`running_simulator`): it runs
its own event loop in a daemon thread, and every control method hops onto that loop and waits
for the result, so calls are safe from any thread (including a gevent-based ESL client's).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from .channel import ChannelInfo, snapshot
from .config import DEFAULT_PASSWORD, SimulatorConfig
from .dialplan import DialplanRouter, Step
from .directory import Endpoint
from .esl_server import EslServer

T = TypeVar("T")


class Simulator:
    """The simulated FreeSWITCH on the current asyncio loop."""

    def __init__(
        self, config: SimulatorConfig | None = None, *, router: DialplanRouter | None = None
    ):
        from .switch import Switch

        self.config = config or SimulatorConfig()
        self.switch = Switch(self.config, router)
        self.esl = EslServer(self.switch, self.config.host, self.config.port, self.config.password)
        self._heartbeat: asyncio.TimerHandle | None = None
        self._contact_ports = iter(range(20000, 60000))
        self.stopped: asyncio.Event | None = None  # created on start (needs the loop)
        self.switch.on_shutdown.append(self.shutdown)

    @property
    def port(self) -> int:
        """Return the ESL port (the bound one once started)."""
        return self.esl.port

    async def start(self) -> int:
        """Start listening for ESL clients and the HEARTBEAT timer; return the port."""
        self.stopped = asyncio.Event()
        port = await self.esl.start()
        self._schedule_heartbeat()
        return port

    def _schedule_heartbeat(self) -> None:
        interval = self.config.heartbeat_interval
        if interval and interval > 0:
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(interval, self._beat)

    def _beat(self) -> None:
        self.switch.heartbeat()
        self._schedule_heartbeat()

    def shutdown(self) -> None:
        """Shut down like ``fsctl shutdown``: SHUTDOWN event, calls dropped, clients told."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        switch = self.switch
        switch.fire_plain("SHUTDOWN", (("Event-Info", "System Shutting Down"),))
        switch.hangup_all("SYSTEM_SHUTDOWN")
        self.esl.stop_listening()
        self.esl.shutdown_notice()
        if self.stopped is not None:
            self.stopped.set()

    async def stop(self) -> None:
        """Shut down (if not already) and wait until the listening socket is closed."""
        if self.stopped is None or not self.stopped.is_set():
            self.shutdown()
        await self.esl.wait_closed()
        # Let the transports flush their notices before the loop goes away.
        for _ in range(3):
            await asyncio.sleep(0)

    # ----------------------------------------------------------------- control
    def register_endpoint(
        self,
        user: str,
        *,
        answer_after: float | None = None,
        answers: bool = True,
        reject_cause: str | None = None,
        hangup_after: float | None = None,
        display_name: str = "",
        contact_host: str = "127.0.0.1",
        contact_port: int | None = None,
    ) -> Endpoint:
        """Register a phone for ``user`` (fires CUSTOM sofia::register) and return it."""
        endpoint = Endpoint(
            user=user,
            domain=self.config.domain,
            answer_after=(
                self.config.endpoint_answer_after if answer_after is None else answer_after
            ),
            answers=answers,
            reject_cause=reject_cause,
            hangup_after=hangup_after,
            contact_host=contact_host,
            contact_port=contact_port or next(self._contact_ports),
            call_id=f"{self.switch.new_uuid()}@{contact_host}",
            registered_at=time.time(),
            display_name=display_name,
        )
        self.switch.register(endpoint)
        return endpoint

    def unregister_endpoint(self, user: str) -> bool:
        """Unregister ``user``'s phone (fires CUSTOM sofia::unregister)."""
        return self.switch.unregister(user)

    def add_directory_user(self, user: str) -> None:
        """Make ``user`` exist in the directory without registering it."""
        self.switch.directory.users.add(user)

    def place_inbound_call(
        self,
        caller: str,
        destination: str,
        *,
        caller_name: str = "",
        talk_time: float | None = None,
        patience: float | None = None,
        digits: str = "",
        variables: dict[str, str] | None = None,
        uuid: str | None = None,
    ) -> str:
        """Start a call from ``caller`` to ``destination``; return its Unique-ID.

        ``talk_time``: the caller hangs up that long after being bridged; ``patience``: the
        caller gives up that long after calling if not bridged by then; ``digits``: what the
        caller enters when an IVR prompts (play_and_get_digits, the httapi step).
        """
        channel = self.switch.create_inbound(
            caller,
            destination,
            caller_name=caller_name,
            uuid=uuid,
            variables=variables,
            talk_time=talk_time,
            patience=patience,
            digits=digits,
        )
        return channel.uuid

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> bool:
        """The far end of ``uuid`` hangs up (a BYE arrives); False if no such channel."""
        channel = self.switch.find(uuid)
        if channel is None:
            return False
        return self.switch.remote_hangup(channel, cause)

    def press_dtmf(self, uuid: str, digits: str, source: str = "RTP") -> bool:
        """The far end of ``uuid`` sends DTMF ``digits``; False if no such channel."""
        channel = self.switch.find(uuid)
        if channel is None:
            return False
        self.switch.receive_dtmf(channel, digits, source)
        return True

    def channels(self) -> list[ChannelInfo]:
        """Return snapshots of the live channels, oldest first."""
        live = sorted(self.switch.channels.values(), key=lambda ch: ch.times.created)
        return [snapshot(channel) for channel in live]

    def channel(self, uuid: str) -> ChannelInfo | None:
        """Return a snapshot of channel ``uuid``, or None."""
        channel = self.switch.find(uuid)
        return snapshot(channel) if channel is not None else None

    def drop_clients(self) -> int:
        """Abruptly close every ESL socket (no notice); return how many were open."""
        return self.esl.drop_all()

    def connection_count(self) -> int:
        """Return the number of connected ESL clients."""
        return len(self.esl.connections)

    def set_route(self, destination: str, steps: Sequence[Step]) -> None:
        """Run ``steps`` for calls to exactly ``destination``."""
        self.switch.router.set_route(destination, steps)

    def set_pattern(self, pattern: str, steps: Sequence[Step]) -> None:
        """Run ``steps`` for destinations matching the regex ``pattern``."""
        self.switch.router.set_pattern(pattern, steps)

    def set_default_dialplan(self, steps: Sequence[Step]) -> None:
        """Replace the default inbound steps (answer + park)."""
        self.switch.router.set_default(steps)


class SimulatorServer:
    """A :class:`Simulator` on its own loop in a background thread, driven synchronously."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8021,
        password: str = DEFAULT_PASSWORD,
        heartbeat_interval: float = 20.0,
        *,
        config: SimulatorConfig | None = None,
        router: DialplanRouter | None = None,
        **overrides: Any,
    ):
        base = config or SimulatorConfig()
        self.config = dataclasses.replace(
            base,
            host=host,
            port=port,
            password=password,
            heartbeat_interval=heartbeat_interval,
            **overrides,
        )
        self._router = router
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.simulator: Simulator | None = None

    @property
    def port(self) -> int:
        """Return the bound ESL port."""
        return self.config.port if self.simulator is None else self.simulator.port

    @property
    def host(self) -> str:
        """Return the listening address."""
        return self.config.host

    @property
    def password(self) -> str:
        """Return the ESL password."""
        return self.config.password

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Return the simulator's event loop (running in the background thread)."""
        if self._loop is None:
            raise RuntimeError("simulator not started")
        return self._loop

    def start(self, timeout: float = 10.0) -> int:
        """Start the loop thread and the server; return the bound port."""
        if self._thread is not None:
            return self.port
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self.simulator = Simulator(self.config, router=self._router)
                port = loop.run_until_complete(self.simulator.start())
            except Exception as error:  # noqa: BLE001 - bind errors go back to the starter
                ready.set_exception(error)
                loop.close()
                return
            ready.set_result(port)
            try:
                loop.run_forever()
            finally:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="fs-simulator", daemon=True)
        self._thread.start()
        try:
            return ready.result(timeout)
        except BaseException:
            self._thread.join(timeout)
            self._thread = None
            self._loop = None
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Send the shutdown notice to every client, stop the loop and join the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running() and self.simulator is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.simulator.stop(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- loop hopping
    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` on the simulator loop and return its result."""
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return function(*args, **kwargs)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def invoke() -> None:
            try:
                future.set_result(function(*args, **kwargs))
            except Exception as error:  # noqa: BLE001 - re-raised in the calling thread
                future.set_exception(error)

        loop.call_soon_threadsafe(invoke)
        return future.result(30)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coroutine`` on the simulator loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def _sim(self) -> Simulator:
        if self.simulator is None:
            raise RuntimeError("simulator not started")
        return self.simulator

    # ----------------------------------------------------------------- control
    def register_endpoint(
        self,
        user: str,
        *,
        answer_after: float | None = None,
        answers: bool = True,
        reject_cause: str | None = None,
        hangup_after: float | None = None,
        display_name: str = "",
        contact_host: str = "127.0.0.1",
        contact_port: int | None = None,
    ) -> Endpoint:
        """Register a phone for ``user`` (see :meth:`Simulator.register_endpoint`)."""
        return self.call(
            self._sim().register_endpoint,
            user,
            answer_after=answer_after,
            answers=answers,
            reject_cause=reject_cause,
            hangup_after=hangup_after,
            display_name=display_name,
            contact_host=contact_host,
            contact_port=contact_port,
        )

    def unregister_endpoint(self, user: str) -> bool:
        """Unregister ``user``'s phone."""
        return self.call(self._sim().unregister_endpoint, user)

    def add_directory_user(self, user: str) -> None:
        """Make ``user`` exist in the directory without registering it."""
        self.call(self._sim().add_directory_user, user)

    def place_inbound_call(
        self,
        caller: str,
        destination: str,
        *,
        caller_name: str = "",
        talk_time: float | None = None,
        patience: float | None = None,
        digits: str = "",
        variables: dict[str, str] | None = None,
        uuid: str | None = None,
    ) -> str:
        """Start a call; return its Unique-ID (see :meth:`Simulator.place_inbound_call`)."""
        return self.call(
            self._sim().place_inbound_call,
            caller,
            destination,
            caller_name=caller_name,
            talk_time=talk_time,
            patience=patience,
            digits=digits,
            variables=variables,
            uuid=uuid,
        )

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> bool:
        """The far end of ``uuid`` hangs up."""
        return self.call(self._sim().hangup, uuid, cause)

    def press_dtmf(self, uuid: str, digits: str, source: str = "RTP") -> bool:
        """The far end of ``uuid`` sends DTMF ``digits``."""
        return self.call(self._sim().press_dtmf, uuid, digits, source)

    def channels(self) -> list[ChannelInfo]:
        """Return snapshots of the live channels, oldest first."""
        return self.call(self._sim().channels)

    def channel(self, uuid: str) -> ChannelInfo | None:
        """Return a snapshot of channel ``uuid``, or None."""
        return self.call(self._sim().channel, uuid)

    def drop_clients(self) -> int:
        """Abruptly close every ESL socket; return how many were open."""
        return self.call(self._sim().drop_clients)

    def connection_count(self) -> int:
        """Return the number of connected ESL clients."""
        return self.call(self._sim().connection_count)

    def shutdown(self) -> None:
        """Shut down like ``fsctl shutdown`` (notice to clients; the thread keeps running)."""
        self.call(self._sim().shutdown)

    def set_route(self, destination: str, steps: Sequence[Step]) -> None:
        """Run ``steps`` for calls to exactly ``destination``."""
        self.call(self._sim().set_route, destination, steps)

    def set_pattern(self, pattern: str, steps: Sequence[Step]) -> None:
        """Run ``steps`` for destinations matching the regex ``pattern``."""
        self.call(self._sim().set_pattern, pattern, steps)

    def set_default_dialplan(self, steps: Sequence[Step]) -> None:
        """Replace the default inbound steps (answer + park)."""
        self.call(self._sim().set_default_dialplan, steps)

    def wait_until(
        self, predicate: Callable[[Simulator], bool], timeout: float = 5.0, interval: float = 0.005
    ) -> bool:
        """Poll ``predicate(simulator)`` on the loop until true or ``timeout``; return it."""
        deadline = time.monotonic() + timeout
        while True:
            if self.call(predicate, self._sim()):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)


@contextlib.contextmanager
def running_simulator(
    host: str = "127.0.0.1",
    port: int = 0,
    password: str = DEFAULT_PASSWORD,
    heartbeat_interval: float = 20.0,
    **kwargs: Any,
) -> Iterator[SimulatorServer]:
    """Run a :class:`SimulatorServer` for the block; ``sim.port`` is the bound port."""
    server = SimulatorServer(host, port, password, heartbeat_interval, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
