"""Run the simulator as a process (``manage.py fs_simulator`` or ``python -m``).

Configuration comes from options with defaults from the environment: ``FS_SIM_HOST``
(127.0.0.1), ``FS_SIM_PORT`` (8021) and ``FS_SIM_PASSWORD`` — required unless running in a
debug setting, where the FreeSWITCH default ``ClueCon`` is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .config import DEFAULT_PASSWORD, SimulatorConfig
from .dialplan import DialplanRouter
from .server import Simulator
from .traffic import AgentProfile, CallerPool, TrafficGenerator, TrafficProfile

logger = logging.getLogger(__name__)


class ConfigError(ValueError):
    """The simulator cannot start with the given settings."""


def build_config(
    *,
    host: str | None = None,
    port: int | None = None,
    password: str | None = None,
    heartbeat: float | None = None,
    environ: Mapping[str, str] = os.environ,
    debug: bool = False,
) -> SimulatorConfig:
    """Return the server configuration from options, then the environment, then defaults."""
    password = password or environ.get("FS_SIM_PASSWORD")
    if not password:
        if not debug:
            raise ConfigError("FS_SIM_PASSWORD is required (ClueCon is only allowed with DEBUG)")
        password = DEFAULT_PASSWORD
    port_text = str(port) if port is not None else environ.get("FS_SIM_PORT", "8021")
    try:
        port_number = int(port_text)
    except ValueError as error:
        raise ConfigError(f"invalid FS_SIM_PORT {port_text!r}") from error
    return SimulatorConfig(
        host=host or environ.get("FS_SIM_HOST", "127.0.0.1"),
        port=port_number,
        password=password,
        heartbeat_interval=20.0 if heartbeat is None else heartbeat,
    )


def parse_range(text: str) -> tuple[float, float]:
    """Parse ``"2"`` or ``"1,3"`` into a (min, max) pair of seconds."""
    parts = [float(part) for part in text.split(",") if part.strip()]
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) == 2 and parts[0] <= parts[1]:
        return parts[0], parts[1]
    raise ConfigError(f"expected <seconds> or <min>,<max>, got {text!r}")


@dataclass
class Plan:
    """What to run: the server configuration, optional traffic and agents."""

    config: SimulatorConfig
    traffic: TrafficProfile | None = None
    agents: AgentProfile | None = None
    router: DialplanRouter | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's command-line options to ``parser``."""
    parser.add_argument("--host", help="listen address (FS_SIM_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="ESL port (FS_SIM_PORT, default 8021)")
    parser.add_argument("--password", help="ESL password (FS_SIM_PASSWORD)")
    parser.add_argument("--heartbeat", type=float, help="HEARTBEAT interval, seconds (20)")
    parser.add_argument("--traffic-rate", type=float, help="inbound calls per second")
    parser.add_argument("--arrival", choices=("poisson", "fixed"), default="poisson")
    parser.add_argument("--traffic-duration", type=float, help="stop generating after N s")
    parser.add_argument("--traffic-count", type=int, help="stop generating after N calls")
    parser.add_argument("--dids", default="4001", help="comma-separated dialled numbers")
    parser.add_argument("--talk-time", default="30,180", help="caller talk time <min>,<max>")
    parser.add_argument("--patience", help="caller patience in queue <min>,<max>")
    parser.add_argument("--ivr-choices", default="1,2,3,", help="comma-separated digit plans")
    parser.add_argument("--agents", type=int, default=0, help="agent phones to register")
    parser.add_argument("--first-extension", type=int, default=1001)
    parser.add_argument("--agent-answer-after", default="1,3", help="<min>,<max> seconds")
    parser.add_argument("--no-answer-ratio", type=float, default=0.0)
    parser.add_argument("--seed", type=int, help="random seed for reproducible traffic")


def plan_from_options(
    options: Mapping[str, object], *, environ: Mapping[str, str] = os.environ, debug: bool = False
) -> Plan:
    """Turn parsed options (argparse/Django ``options``) into a :class:`Plan`."""

    def get(name: str) -> object:
        return options.get(name)

    config = build_config(
        host=get("host"),  # type: ignore[arg-type]
        port=get("port"),  # type: ignore[arg-type]
        password=get("password"),  # type: ignore[arg-type]
        heartbeat=get("heartbeat"),  # type: ignore[arg-type]
        environ=environ,
        debug=debug,
    )
    seed = get("seed")
    traffic = None
    rate = get("traffic_rate")
    if rate:
        patience = get("patience")
        traffic = TrafficProfile(
            rate=float(rate),  # type: ignore[arg-type]
            arrival=str(get("arrival") or "poisson"),  # type: ignore[arg-type]
            duration=get("traffic_duration"),  # type: ignore[arg-type]
            count=get("traffic_count"),  # type: ignore[arg-type]
            dids=tuple(d for d in str(get("dids") or "4001").split(",") if d),
            talk_time=parse_range(str(get("talk_time") or "30,180")),
            patience=parse_range(str(patience)) if patience else None,
            ivr_choices=tuple(str(get("ivr_choices") or "").split(",")),
            callers=CallerPool(seed=seed),  # type: ignore[arg-type]
            seed=seed,  # type: ignore[arg-type]
        )
    agents = None
    count = int(get("agents") or 0)  # type: ignore[call-overload]
    if count:
        agents = AgentProfile(
            count=count,
            first_extension=int(get("first_extension") or 1001),  # type: ignore[call-overload]
            answer_after=parse_range(str(get("agent_answer_after") or "1,3")),
            no_answer_ratio=float(get("no_answer_ratio") or 0.0),  # type: ignore[arg-type]
            seed=seed,  # type: ignore[arg-type]
        )
    return Plan(config, traffic, agents)


async def serve(
    plan: Plan,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[Simulator], None] | None = None,
) -> Simulator:
    """Run the simulator (and its traffic) until ``stop`` is set or ``fsctl shutdown``."""
    simulator = Simulator(plan.config, router=plan.router)
    await simulator.start()
    generator = None
    if plan.traffic is not None or plan.agents is not None:
        generator = TrafficGenerator(
            simulator, plan.traffic or TrafficProfile(count=0), plan.agents
        )
        generator.register_agents()
    if on_ready is not None:
        on_ready(simulator)
    traffic_task = None
    if generator is not None and plan.traffic is not None:
        traffic_task = asyncio.create_task(generator.run())
    stopped = simulator.stopped
    assert stopped is not None
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(stopped.wait())]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
    if generator is not None:
        generator.stop()
    if traffic_task is not None:
        traffic_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await traffic_task
    await simulator.stop()
    return simulator


def run(plan: Plan, *, log: Callable[[str], None] = print) -> None:
    """Serve until SIGTERM/SIGINT, then send the shutdown notice to every client."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)

        def ready(simulator: Simulator) -> None:
            config = plan.config
            log(f"FreeSWITCH simulator listening on {config.host}:{simulator.port}")
            if plan.agents is not None:
                log(f"registered {plan.agents.count} agent phones")
            if plan.traffic is not None:
                log(f"generating {plan.traffic.rate:g} calls/s ({plan.traffic.arrival})")

        await serve(plan, stop, on_ready=ready)
        log("FreeSWITCH simulator stopped")

    asyncio.run(main())


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m apps.telephony.simulator``)."""
    parser = argparse.ArgumentParser(description="FreeSWITCH Event Socket simulator")
    add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="allow the default password")
    options = vars(parser.parse_args(argv))
    try:
        plan = plan_from_options(options, debug=bool(options.get("debug")))
    except ConfigError as error:
        parser.error(str(error))
    run(plan)
    return 0
