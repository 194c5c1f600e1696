"""Screen-pop latency: from the FreeSWITCH event (the agent's leg ringing, then answered) to the
WebSocket frame at the agent's browser client, with many agent sockets connected.

    .venv/bin/python bench/screen_pop.py [--agents 1500] [--rate 50] [--duration 30]

What runs: the FreeSWITCH simulator (its own process) with one registered phone per agent; the
telephony event process (``manage.py telephony_events``) writing calls and publishing domain
events, whose console handler pushes the screen-pop (prepared by the realtime Celery worker when
the caller entered the queue) through the Redis channel layer; the ASGI web process (uvicorn)
holding one console WebSocket per agent; and, in this process, one real WebSocket client per
agent (``websockets``), logged in with a session. Each call: a caller enters the simulator
(parked in a queue), half a second later the agent's phone is rung with ``originate`` (what
routing asks for) and answers 0.5 s after that. Latency = the client's receive time minus the
event's Event-Date-Timestamp (the simulator stamps it when it sends the event; same clock).
A fresh database (default cc_bench_console) is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETTINGS = "tests.browser.settings"  # the test profile with the channel layer socket fix
RING_AFTER = 0.5  # seconds between a caller entering the queue and their agent's phone ringing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=50.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of calls")
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument(
        "--batch-wait-ms",
        type=int,
        default=50,
        help="the event process's batching window (its default is 50)",
    )
    parser.add_argument(
        "--queue-stats-interval",
        type=float,
        default=1.0,
        help="seconds between two pushes of one queue's statistics (the console's default is 1)",
    )
    parser.add_argument("--database", default="cc_bench_console")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args()


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "TEST_REDIS_URL": env.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9"),
            "TEST_CHANNEL_LAYER_URL": env.get(
                "TEST_CHANNEL_LAYER_URL", "redis://127.0.0.1:6379/10"
            ),
            "TEST_CELERY_BROKER_URL": env.get(
                "TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/11"
            ),
            "PYTHONPATH": str(REPO),
            "CONSOLE_QUEUE_STATS_INTERVAL": str(args.queue_stats_interval),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(args: argparse.Namespace) -> tuple[list, dict[int, str], list[str]]:
    """Create the agents (with sessions), their teams and queues, and customers to match."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts.models import Agent, Team, User
    from apps.customers.models import Customer, CustomerIdentity
    from apps.rbac import roles
    from apps.rbac.services import roles_setup
    from apps.routing.models import Queue

    roles_setup()
    agent_role = Group.objects.get(name=roles.AGENT)
    teams = [Team.objects.create(name=f"Bench team {i}") for i in range(args.queues)]
    queues = []
    for index, team in enumerate(teams):
        queue = Queue.objects.create(slug=f"bench-{index}", name=f"Bench queue {index}")
        queue.teams.add(team)
        queues.append(queue.slug)
    users = User.objects.bulk_create(
        User(username=f"bench{i:05d}", password=make_password(None), display_name=f"Agent {i}")
        for i in range(args.agents)
    )
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=agent_role.pk) for user in users
    )
    agents = Agent.objects.bulk_create(
        Agent(user=user, team=teams[i % len(teams)], extension=f"{100000 + i}")
        for i, user in enumerate(users)
    )
    sessions: dict[int, str] = {}
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[user.pk] = store.session_key
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Customer {i}", vip_tier="gold" if i % 7 == 0 else "standard", tags=["bench"]
        )
        for i in range(500)
    )
    CustomerIdentity.objects.bulk_create(
        CustomerIdentity(customer=customer, kind="phone", value=f"+86139{i:08d}", is_primary=True)
        for i, customer in enumerate(customers)
    )
    return agents, sessions, queues


class Clients:
    """One console WebSocket per agent; records when each screen-pop frame arrives."""

    def __init__(self, url: str, sessions: dict[int, str]) -> None:
        self.url = url
        self.sessions = sessions
        # (phase, call id, event -> frame, event -> pushed by the suite) in seconds
        self.samples: list[tuple[str, int, float, float]] = []
        self.connected = 0
        self.failed = 0
        self.tasks: list[asyncio.Task] = []

    async def run_one(self, user_id: int, ready: asyncio.Event, gate: asyncio.Semaphore) -> None:
        import websockets

        headers = {"Cookie": f"sessionid={self.sessions[user_id]}"}
        async with gate:
            try:
                socket_ = await websockets.connect(
                    self.url,
                    additional_headers=headers,
                    origin="http://127.0.0.1",
                    max_size=None,
                    open_timeout=120,
                )
                first = json.loads(await asyncio.wait_for(socket_.recv(), 120))
                assert first["type"] == "snapshot"
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                self.failed += 1  # counted: the report says how many sockets failed to open
                return
        self.connected += 1
        if self.connected + self.failed == len(self.sessions):
            ready.set()
        try:
            async for frame in socket_:
                received = time.time()
                if '"screen_pop"' not in frame:
                    continue  # queue statistics and the like: not measured
                message = json.loads(frame)
                if message.get("type") == "screen_pop" and message.get("event_at"):
                    event_at = datetime.fromisoformat(message["event_at"]).timestamp()
                    pushed_at = datetime.fromisoformat(message["pushed_at"]).timestamp()
                    self.samples.append(
                        (
                            message["phase"],
                            message["call"]["id"],
                            received - event_at,
                            pushed_at - event_at,
                        )
                    )
        except websockets.exceptions.ConnectionClosed:  # the end of the run
            return

    async def start(self) -> None:
        ready = asyncio.Event()
        gate = asyncio.Semaphore(50)
        self.tasks = [
            asyncio.create_task(self.run_one(user_id, ready, gate)) for user_id in self.sessions
        ]
        await ready.wait()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class Esl:
    """A raw ESL connection to the simulator to originate the agents' legs (as routing does)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        from apps.telephony.simulator.config import DEFAULT_PASSWORD

        self.sock.sendall(f"auth {DEFAULT_PASSWORD}\n\n".encode())
        self.lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self.sock.recv(65536):
                pass

    def originate(self, *, agent_id: int, extension: str, call_uuid: str, caller: str) -> None:
        variables = (
            f"{{cc_agent_id={agent_id},cc_leg_role=agent,cc_call_uuid={call_uuid},"
            f"origination_caller_id_number={caller}}}"
        )
        command = f"bgapi originate {variables}user/{extension}@127.0.0.1 &park()\n\n"
        with self.lock:
            self.sock.sendall(command.encode())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def drive(args, agents, sessions, simulator, web_url) -> Clients:
    clients = Clients(
        web_url.replace("http", "ws") + "/ws/console/",
        {agent.user_id: sessions[agent.user_id] for agent in agents},
    )
    started = time.monotonic()
    await clients.start()
    print(
        f"sockets: {clients.connected} connected, {clients.failed} failed "
        f"in {time.monotonic() - started:.1f} s"
    )
    total = int(args.rate * args.duration)
    loop = asyncio.get_running_loop()
    simulator.stdin.write(b"go\n")
    simulator.stdin.flush()
    done = await loop.run_in_executor(None, simulator.stdout.readline)
    print(f"calls: {done.decode().strip()}")
    # Let the last calls ring, answer and pop (or give up a minute after the last call).
    deadline = time.monotonic() + 60
    while len(clients.samples) < 2 * total and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    await clients.stop()
    return clients


def serve_simulator(spec_path: str) -> None:
    """The simulator's own process: register the phones, then place the calls on "go"."""
    from apps.telephony.simulator import SimulatorServer

    spec = json.loads(Path(spec_path).read_text())
    server = SimulatorServer(port=0, heartbeat_interval=20.0)
    server.start()
    for extension in spec["extensions"]:
        server.register_endpoint(extension, answer_after=0.5, hangup_after=2.0)
    print(f"PORT {server.port}", flush=True)
    sys.stdin.readline()
    esl = Esl(server.port)
    rate = spec["rate"]
    begin = time.monotonic()
    for index, call in enumerate(spec["calls"]):
        call_uuid = server.place_inbound_call(
            call["caller"], "4001", variables={"cc_queue": call["queue"]}, patience=4.0
        )
        # Routing rings the agent once the caller waits in the queue; here half a second later.
        threading.Timer(
            RING_AFTER,
            esl.originate,
            kwargs={
                "agent_id": call["agent_id"],
                "extension": call["extension"],
                "call_uuid": call_uuid,
                "caller": call["caller"],
            },
        ).start()
        delay = begin + (index + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(
        f"{len(spec['calls'])} placed at {len(spec['calls']) / (time.monotonic() - begin):.1f}/s",
        flush=True,
    )
    sys.stdin.readline()  # until the bench closes our stdin
    server.stop()


def start_simulator(args: argparse.Namespace, agents: list, queues: list[str], env: dict):  # type: ignore[no-untyped-def]
    """Start the simulator's process; return it and its ESL port."""
    import subprocess
    import tempfile

    order = list(agents)
    random.shuffle(order)
    calls = []
    for index in range(int(args.rate * args.duration)):
        agent = order[index % len(order)]
        calls.append(
            {
                "agent_id": agent.pk,
                "extension": agent.extension,
                "caller": f"139{index % 500:08d}",
                "queue": queues[agent.team_id % len(queues)],
            }
        )
    spec = {"extensions": [agent.extension for agent in agents], "rate": args.rate, "calls": calls}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-simulator", handle.name],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    line = process.stdout.readline().decode()
    if not line.startswith("PORT "):
        raise RuntimeError(f"simulator did not start: {line!r}")
    return process, int(line.split()[1])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-simulator":
        serve_simulator(sys.argv[2])
        return
    args = parse_args()
    env = environment(args)
    os.environ.update(env)
    print(f"database {args.database}: creating and migrating")
    recreate_database(args.database)
    import subprocess

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True
    )
    import django

    django.setup()
    import redis

    from apps.telephony.models import FreeswitchNode
    from apps.telephony.simulator.config import DEFAULT_PASSWORD
    from tests.browser.harness import Process, free_port, wait_for

    # A fresh broker and channel layer: no tasks or group members left by an earlier run.
    redis.Redis.from_url(env["TEST_CELERY_BROKER_URL"]).flushdb()
    redis.Redis.from_url(env["TEST_CHANNEL_LAYER_URL"]).flushdb()
    agents, sessions, queues = seed(args)
    print(f"seeded {len(agents)} agents in {len(queues)} queues")
    simulator, simulator_port = start_simulator(args, agents, queues, env)
    processes: list[Process] = []
    try:
        FreeswitchNode.objects.create(
            name="bench", host="127.0.0.1", port=simulator_port, password=DEFAULT_PASSWORD
        )
        events = Process(
            "bench-telephony-events",
            [
                sys.executable,
                "manage.py",
                "telephony_events",
                "--batch-wait-ms",
                str(args.batch_wait_ms),
            ],
            env,
        )
        processes.append(events)
        wait_for(lambda: "ESL session up" in events.output(), timeout=60, what="event process")
        worker = Process(
            "bench-celery",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "callcenter",
                "worker",
                "-Q",
                "realtime",
                "-P",
                "gevent",
                "-c",
                "20",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info",
                "-n",
                f"bench-{os.getpid()}@%h",
            ],
            env,
        )
        processes.append(worker)
        wait_for(lambda: " ready." in worker.output(), timeout=60, what="realtime worker")
        port = free_port()
        web = Process(
            "bench-web",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "callcenter.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--ws",
                "websockets-sansio",
            ],
            env,
        )
        processes.append(web)

        def web_up() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False

        wait_for(web_up, timeout=60, what="web")
        clients = asyncio.run(drive(args, agents, sessions, simulator, f"http://127.0.0.1:{port}"))
    finally:
        for process in reversed(processes):
            process.stop()
        simulator.stdin.close()
        simulator.wait(30)
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            drop_database(args.database)
    report(args, clients, processes)


def report(args: argparse.Namespace, clients: Clients, processes: list) -> None:
    print(
        f"\nscreen-pop latency, ESL event -> WebSocket frame at the client "
        f"({args.agents} agent sockets, {args.rate:g} calls/s for {args.duration:g} s, "
        f"event batching {args.batch_wait_ms} ms, queue statistics every "
        f"{args.queue_stats_interval:g} s per queue)"
    )
    expected = int(args.rate * args.duration)
    for phase in ("offer", "answer"):
        values = [total * 1000 for kind, _call, total, _push in clients.samples if kind == phase]
        pushed = [push * 1000 for kind, _call, _total, push in clients.samples if kind == phase]
        if not values:
            print(f"  {phase}: no frames")
            continue
        print(
            f"  {phase:6s} n={len(values):5d}/{expected}  p50={percentile(values, 0.50):6.1f} ms  "
            f"p95={percentile(values, 0.95):6.1f} ms  p99={percentile(values, 0.99):6.1f} ms  "
            f"max={max(values):6.1f} ms  mean={statistics.fmean(values):6.1f} ms"
        )
        delivery = [
            (total - push) * 1000 for kind, _call, total, push in clients.samples if kind == phase
        ]
        print(
            f"         event -> pushed by the suite:  p50={percentile(pushed, 0.5):6.1f} ms  "
            f"p95={percentile(pushed, 0.95):6.1f} ms  p99={percentile(pushed, 0.99):6.1f} ms"
        )
        print(
            f"         pushed -> frame at the client: p50={percentile(delivery, 0.5):6.1f} ms  "
            f"p95={percentile(delivery, 0.95):6.1f} ms  p99={percentile(delivery, 0.99):6.1f} ms"
        )
    everything = [total * 1000 for _kind, _call, total, _push in clients.samples]
    if everything:
        p95 = percentile(everything, 0.95)
        verdict = "meets" if p95 < 100 else "misses"
        print(f"  all    p95={p95:.1f} ms: {verdict} the 100 ms target")
    for process in processes:
        tail = [line for line in process.output().splitlines() if "lag_p50" in line]
        if tail:
            print(f"  event process ingest: {tail[-1]}")


if __name__ == "__main__":
    main()
