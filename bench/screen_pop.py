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
PHASES = ("offer", "answer")  # the agent's phone rings, then the agent answers


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=50.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of calls")
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument(
        "--batch-wait-ms",
        type=int,
        default=5,
        help="the event process's batching window (its default is 5)",
    )
    parser.add_argument(
        "--queue-stats-interval",
        type=float,
        default=1.0,
        help="seconds between two pushes of one queue's statistics (the console's default is 1)",
    )
    parser.add_argument(
        "--settings", default=SETTINGS, help="the settings module of every process (experiments)"
    )
    parser.add_argument("--database", default="cc_bench_console")
    parser.add_argument(
        "--redis-dbs",
        default="13,14,15",
        help="Redis databases for the cache, the channel layer and the Celery broker (flushed "
        "at the start: keep them away from other users' databases)",
    )
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args()


def environment(args: argparse.Namespace) -> dict[str, str]:
    cache_db, layer_db, broker_db = (int(part) for part in args.redis_dbs.split(","))
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": args.settings,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            # Its own databases, never the caller's test ones: the bench flushes them.
            "TEST_REDIS_URL": f"redis://127.0.0.1:6379/{cache_db}",
            "TEST_CHANNEL_LAYER_URL": f"redis://127.0.0.1:6379/{layer_db}",
            "TEST_CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{broker_db}",
            "PYTHONPATH": os.pathsep.join(
                part for part in (str(REPO), os.environ.get("PYTHONPATH", "")) if part
            ),
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


def seed(args: argparse.Namespace) -> tuple[list, dict[int, str], dict[int, str]]:
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
    queues: dict[int, str] = {}  # team id -> the slug of the team's queue
    for index, team in enumerate(teams):
        queue = Queue.objects.create(slug=f"bench-{index}", name=f"Bench queue {index}")
        queue.teams.add(team)
        queues[team.pk] = queue.slug
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
    """One console WebSocket per agent; records every frame and when each screen-pop arrives."""

    def __init__(self, url: str, sessions: dict[int, str]) -> None:
        self.url = url
        self.sessions = sessions
        # (call uuid, phase) -> [(user id of the socket, event -> frame, event -> pushed)] in s
        self.pops: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
        self.frames: dict[str, int] = {}  # every frame received, by type
        self.unparsable = 0  # screen-pops without the timestamps to measure them
        self.connected = 0
        self.failed = 0
        self.closed_early = 0  # sockets the server closed during the run
        self.stopping = False
        self.tasks: list[asyncio.Task] = []

    def screen_pops(self) -> int:
        return sum(len(samples) for samples in self.pops.values())

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
                if first.get("type") != "snapshot":
                    raise ValueError(f"first frame is {first.get('type')!r}")
            except (OSError, TimeoutError, ValueError, websockets.exceptions.WebSocketException):
                self.failed += 1  # counted: the report says how many sockets failed to open
                if self.connected + self.failed == len(self.sessions):
                    ready.set()
                return
        self.connected += 1
        if self.connected + self.failed == len(self.sessions):
            ready.set()
        frames = self.frames
        try:
            async for frame in socket_:
                received = time.time()
                if '"screen_pop"' not in frame:
                    # Counted by type without decoding (the queue statistics are most frames).
                    kind = frame[frame.find('"type"') :][:48].split('"')[3:4]
                    kind_name = kind[0] if kind else "?"
                    frames[kind_name] = frames.get(kind_name, 0) + 1
                    continue
                message = json.loads(frame)
                kind_name = str(message.get("type"))
                frames[kind_name] = frames.get(kind_name, 0) + 1
                if kind_name != "screen_pop":
                    continue
                try:
                    event_at = datetime.fromisoformat(message["event_at"]).timestamp()
                    pushed_at = datetime.fromisoformat(message["pushed_at"]).timestamp()
                    key = (message["call"]["uuid"], message["phase"])
                except (KeyError, TypeError, ValueError):
                    self.unparsable += 1
                    continue
                self.pops.setdefault(key, []).append(
                    (user_id, received - event_at, pushed_at - event_at)
                )
        except websockets.exceptions.ConnectionClosed:
            pass
        if not self.stopping:
            self.closed_early += 1

    async def start(self) -> None:
        ready = asyncio.Event()
        gate = asyncio.Semaphore(50)
        self.tasks = [
            asyncio.create_task(self.run_one(user_id, ready, gate)) for user_id in self.sessions
        ]
        await ready.wait()

    async def stop(self) -> None:
        self.stopping = True
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


async def drive(  # type: ignore[no-untyped-def]
    args, agents, sessions, simulator, web_url, *, pids: dict[str, int]
) -> tuple[Clients, list[dict], dict[str, float], float]:
    """Connect the sockets, have the simulator place the calls, wait for their screen-pops;
    return the clients, the calls placed (uuid, agent) and each process's CPU seconds over the
    calls (from the first call placed to the last screen-pop or the deadline)."""
    clients = Clients(
        web_url.replace("http", "ws") + "/ws/console/",
        {agent.user_id: sessions[agent.user_id] for agent in agents},
    )
    started = time.monotonic()
    await clients.start()
    print(
        f"sockets: {clients.connected} connected, {clients.failed} failed "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    began = time.monotonic()
    try:
        loop = asyncio.get_running_loop()
        simulator.stdin.write(b"go\n")
        simulator.stdin.flush()
        done = await loop.run_in_executor(None, simulator.stdout.readline)
        if not done:
            raise RuntimeError("the simulator exited before placing every call")
        placed = json.loads(done)
        print(
            f"calls: {len(placed['calls'])} placed at {placed['rate']:.1f}/s "
            f"(asked {args.rate:g}/s)",
            flush=True,
        )
        expected = {(call["uuid"], phase) for call in placed["calls"] for phase in PHASES}
        # The last call rings RING_AFTER after it was placed and is answered 0.5 s later; give
        # the stragglers the channel layer's 30 s message expiry, then count the rest as missed.
        deadline = time.monotonic() + RING_AFTER + 0.5 + 30
        while not expected <= clients.pops.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        await asyncio.sleep(0.5)  # duplicates, if any, are counted too
    finally:
        elapsed = time.monotonic() - began
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        await clients.stop()
    return clients, placed["calls"], cpu, elapsed


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
    placed = []
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
        placed.append({"uuid": call_uuid, "user_id": call["user_id"]})
        delay = begin + (index + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    rate_achieved = len(placed) / (time.monotonic() - begin)
    # One line: the calls placed, so the bench can tell which screen-pops never came.
    print(json.dumps({"rate": rate_achieved, "calls": placed}), flush=True)
    sys.stdin.readline()  # until the bench closes our stdin
    server.stop()


def start_simulator(args: argparse.Namespace, agents: list, queues: dict[int, str], env: dict):  # type: ignore[no-untyped-def]
    """Start the simulator's process; return it and its ESL port (and its spec file)."""
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
                "user_id": agent.user_id,
                "extension": agent.extension,
                "caller": f"139{index % 500:08d}",
                "queue": queues[agent.team_id],
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
        process.kill()
        process.wait()
        Path(handle.name).unlink()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return process, int(line.split()[1]), Path(handle.name)


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-simulator":
        serve_simulator(sys.argv[2])
        return
    args = parse_args()
    env = environment(args)
    os.environ.update(env)
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    print(f"database {args.database}: creating and migrating", flush=True)
    recreate_database(args.database)
    import subprocess

    spec_path: Path | None = None
    processes: list = []  # the simulator (Popen), its spec file, then harness Processes
    outcome = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True
        )
        outcome = run_suite(args, env, processes)
    finally:
        for process in reversed(processes):
            if isinstance(process, subprocess.Popen):  # the simulator: stops when stdin closes
                with contextlib.suppress(OSError):
                    process.stdin.close()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            elif isinstance(process, Path):
                spec_path = process
            else:
                process.stop()
        if spec_path is not None:
            spec_path.unlink(missing_ok=True)
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            drop_database(args.database)
            print(f"database {args.database}: dropped")
    if outcome is not None:
        report(args, **outcome)
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")


def run_suite(args: argparse.Namespace, env: dict[str, str], processes: list):  # type: ignore[no-untyped-def]
    """Seed, start the processes (appended to ``processes`` as they start, for the caller to
    stop) and drive the calls; return what ``report`` needs."""
    import django

    django.setup()
    import redis

    from apps.telephony.models import FreeswitchNode
    from apps.telephony.simulator.config import DEFAULT_PASSWORD
    from tests.browser.harness import Process, free_port, wait_for

    # Fresh Redis databases: no tasks, group members or cached screen-pops of an earlier run.
    for name in ("TEST_CELERY_BROKER_URL", "TEST_CHANNEL_LAYER_URL", "TEST_REDIS_URL"):
        redis.Redis.from_url(env[name]).flushdb()
    agents, sessions, queues = seed(args)
    print(f"seeded {len(agents)} agents in {len(queues)} queues", flush=True)
    simulator, simulator_port, spec_path = start_simulator(args, agents, queues, env)
    processes.extend([simulator, spec_path])
    FreeswitchNode.objects.create(
        name="bench", host="127.0.0.1", port=simulator_port, password=DEFAULT_PASSWORD
    )

    def started(process: Process, ready: str, what: str) -> None:
        def up() -> bool:
            if not process.alive():
                raise RuntimeError(f"{what} exited:\n{process.output()[-3000:]}")
            return ready in process.output()

        wait_for(up, timeout=60, what=what)

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
    started(events, "ESL session up", "event process")
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
    started(worker, " ready.", "realtime worker")
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
            "--ws-per-message-deflate",
            "false",  # as the suite's start runs it (apps/core/supervisor.py)
        ],
        env,
    )
    processes.append(web)

    def web_up() -> bool:
        if not web.alive():
            raise RuntimeError(f"web exited:\n{web.output()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False

    wait_for(web_up, timeout=60, what="web")
    pids = {
        "simulator": simulator.pid,
        "event process": events.popen.pid,
        "realtime worker": worker.popen.pid,
        "web": web.popen.pid,
        "clients (this process)": os.getpid(),
    }
    clients, calls, cpu, elapsed = asyncio.run(
        drive(args, agents, sessions, simulator, f"http://127.0.0.1:{port}", pids=pids)
    )
    return {
        "clients": clients,
        "calls": calls,
        "processes": processes,
        "cpu": cpu,
        "elapsed": elapsed,
    }


def report(  # type: ignore[no-untyped-def]
    args: argparse.Namespace, *, clients: Clients, calls: list[dict], processes: list, cpu, elapsed
) -> None:
    print(
        f"\nscreen-pop latency, ESL event -> WebSocket frame at the client "
        f"({args.agents} agent sockets, {args.rate:g} calls/s for {args.duration:g} s, "
        f"event batching {args.batch_wait_ms} ms, queue statistics every "
        f"{args.queue_stats_interval:g} s per queue)"
    )
    print(
        f"  sockets: {clients.connected} connected, {clients.failed} failed to open, "
        f"{clients.closed_early} closed by the server during the run"
    )
    owner = {call["uuid"]: call["user_id"] for call in calls}
    failures = 0
    everything: list[float] = []
    for phase in PHASES:
        totals: list[float] = []
        pushed: list[float] = []
        missed = duplicated = misrouted = 0
        for uuid, user_id in owner.items():
            samples = clients.pops.get((uuid, phase), [])
            mine = [sample for sample in samples if sample[0] == user_id]
            misrouted += len(samples) - len(mine)
            if not mine:
                missed += 1
                continue
            duplicated += len(mine) - 1
            _user, total, push = min(mine, key=lambda sample: sample[1])
            totals.append(total * 1000)
            pushed.append(push * 1000)
        failures += missed + misrouted
        # A missed screen-pop counts as never arriving: it sits above every measured one.
        ranked = totals + [float("inf")] * missed
        everything += ranked
        print(
            f"  {phase:6s} received {len(totals)}/{len(owner)}  missed={missed} "
            f"misrouted={misrouted} duplicates={duplicated}"
        )
        if not totals:
            continue
        print(
            f"         event -> frame at the client:  p50={percentile(ranked, 0.50):7.1f} ms  "
            f"p95={percentile(ranked, 0.95):7.1f} ms  p99={percentile(ranked, 0.99):7.1f} ms  "
            f"max={max(ranked):7.1f} ms  mean(received)={statistics.fmean(totals):7.1f} ms"
        )
        delivery = [total - push for total, push in zip(totals, pushed, strict=True)]
        print(
            f"         event -> pushed by the suite:  p50={percentile(pushed, 0.5):7.1f} ms  "
            f"p95={percentile(pushed, 0.95):7.1f} ms  p99={percentile(pushed, 0.99):7.1f} ms"
        )
        print(
            f"         pushed -> frame at the client: p50={percentile(delivery, 0.5):7.1f} ms  "
            f"p95={percentile(delivery, 0.95):7.1f} ms  p99={percentile(delivery, 0.99):7.1f} ms"
        )
    frames = ", ".join(f"{kind} {count}" for kind, count in sorted(clients.frames.items()))
    print(f"  frames received by the clients: {frames}")
    print(f"  screen-pops without their timestamps: {clients.unparsable}")
    print(
        "  CPU seconds over the calls ("
        + f"{elapsed:.0f} s): "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
    )
    for process in processes:
        output = getattr(process, "output", None)
        lines = output().splitlines() if output else []
        tail = [line for line in lines if "lag_p50" in line and "domain-event lane" not in line]
        if tail:
            print(f"  event process ingest: {tail[-1]}")
        # Each subscriber's lane: queued -> every handler returned (the event process's log).
        for line in lines:
            if "domain-event lane" in line:
                print(f"  {line[line.index('domain-event lane') :]}")
    if everything:
        p95 = percentile(everything, 0.95)
        verdict = "meets" if p95 < 100 and failures == 0 else "misses"
        print(
            f"  all    p50={percentile(everything, 0.5):.1f} ms  p95={p95:.1f} ms  "
            f"p99={percentile(everything, 0.99):.1f} ms, {failures} failed screen-pops: "
            f"{verdict} the 100 ms p95 target"
        )


if __name__ == "__main__":
    main()
