"""Routing (ACD) decisions at scale on PostgreSQL: throughput and latency.

    .venv/bin/python bench/routing.py [--agents 1500] [--skills 60] [--queues 40]
        [--backlog 5000] [--rate 500] [--duration 20] [--workers 2] [--handle 3.0]
        [--batch 64] [--arrival-processes 2] [--routing-only]

1. Creates the bench database cc_bench_routing (dropped and recreated: never the development one),
   migrates it with the production settings profile, and seeds 60 skills, 40 queues (one or two
   required skills at minimum levels, two serving teams each, every strategy), 1,500 agents in 20
   teams with their skills, a VIP tier, and 5,000 waiting calls (random priorities, 10% VIP).
2. Capacity: every agent becomes available at once (an "agent available" router event each,
   published to the router event queue as the services publish them); router processes
   (``--workers``, separate processes with their own connections) run the production router
   loop (apps.routing.router_process.router_turn, what ``manage.py run_router`` runs): each turn
   takes the events queued since the last one, up to ``--batch``, and decides on them in ONE
   transaction and one round trip (apps.routing.router.route_events: per decision one locking
   SQL statement, the originates stored through telephony and published in one Celery message
   after the commit). Figures: decisions per second, and the time of a turn (p50/p99).
3. Steady state: calls arrive at ``--rate`` per second (from ``--arrival-processes`` processes:
   each arrival waits for its commit) through the real enqueue service
   (apps.routing.services.waiting_call_enqueue, which queues a router event after its commit
   when a qualified agent is free), agents finish calls ``--handle`` seconds after their offer
   (simulated in one UPDATE per tick, each freed agent's event published as the services do:
   talking is not routing), so about ``--rate`` agents become available per second and the line
   stays near 5,000 calls. Figures: events and decisions per second, and decision latency from
   the event's publication to the committed decision with its originate published (queueing
   included), p50/p99.

Besides wall-clock figures, each phase reports the CPU time one decision costs (the router
processes plus their PostgreSQL backends, read from /proc), hence the decisions per second two
free cores would give: on a machine shared with other work the wall-clock figures measure the
neighbours too. ``--routing-only`` leaves telephony's originate request (an ORM insert and a
Celery message per offer) out of each decision, to show routing's own share.

Targets: keep up with 500 arrivals per second with p99 < 20 ms on two cores; aim for 2,000
decisions per second. Redis databases 5, 6 and 11 (routing's own) are used and emptied at the end.
"""

from __future__ import annotations

import argparse
import base64
import heapq
import multiprocessing
import os
import queue as queue_module
import random
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DATABASE = "cc_bench_routing"
REDIS_DBS = (5, 6, 11)
# Django's marker of an unusable password: bench agents never log in.
UNUSABLE_PASSWORD = "!"  # noqa: S105 (not a secret: the "no password" marker)
STRATEGIES = ["longest_idle", "best_skill", "least_occupied", "round_robin", "sticky"]


def bench_env() -> dict[str, str]:
    """Production profile pointed at the bench database and routing's own Redis databases."""
    key = base64.urlsafe_b64encode(b"bench-only-field-key-32-bytes!!!").decode()
    return {
        "DJANGO_SETTINGS_MODULE": "callcenter.settings.prod",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEY": key,
        # PostgreSQL trusts loopback here; the password only satisfies the production checks.
        "DATABASE_URL": f"postgres://postgres:bench-only-{secrets.token_hex(8)}@127.0.0.1:5432/"
        f"{DATABASE}",
        "DB_CONN_MAX_AGE": "600",
        "REDIS_URL": "redis://127.0.0.1:6379/5",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/11",
        "CHANNEL_LAYER_URL": "redis://127.0.0.1:6379/6",
        "CACHE_KEY_PREFIX": "cc-bench-routing",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FREESWITCH_XML_PASSWORD": secrets.token_urlsafe(16),
        "FREESWITCH_NODES": "[]",
        "LOG_LEVEL": "WARNING",
    }


def recreate_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def flush_redis() -> None:
    import redis

    for number in REDIS_DBS:
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{number}").flushdb()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# ------------------------------------------------------------------------------------ seeding


def seed(args: argparse.Namespace) -> dict[str, object]:
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from apps.accounts.models import Agent, Team, User
    from apps.rbac import roles
    from apps.rbac.services import roles_setup
    from apps.routing.matching import agent_tokens
    from apps.routing.models import (
        AgentPresence,
        AgentSkill,
        CustomerTier,
        Queue,
        QueueSkill,
        Skill,
    )
    from apps.telephony.models import FreeswitchNode

    rng = random.Random(7)
    now = timezone.now()
    roles_setup()
    FreeswitchNode.objects.create(
        name="bench", host="127.0.0.1", password=secrets.token_urlsafe(12)
    )
    skills = Skill.objects.bulk_create(
        Skill(slug=f"skill-{n:02d}", name=f"Skill {n:02d}") for n in range(args.skills)
    )
    CustomerTier.objects.create(slug="vip", name="VIP", priority_bonus=20)
    teams = Team.objects.bulk_create(Team(name=f"Bench team {n:02d}") for n in range(20))
    queues = []
    needs: dict[int, dict[int, int]] = {}
    served_by: dict[int, list[int]] = {}
    for number in range(args.queues):
        queue = Queue.objects.create(
            slug=f"queue-{number:02d}",
            name=f"Queue {number:02d}",
            strategy=STRATEGIES[number % len(STRATEGIES)],
            sticky_window_seconds=10,
            priority=rng.randint(0, 20),
            ring_timeout_seconds=20,
            wrap_up_seconds=0,
        )
        team_indexes = [number % len(teams), (number * 7 + 3) % len(teams)]
        queue.teams.set([teams[index] for index in team_indexes])
        required = {skills[number % len(skills)].pk: 3}
        if number % 3 == 0:
            required[skills[(number * 11 + 5) % len(skills)].pk] = 2
        for skill_id, level in required.items():
            QueueSkill.objects.create(queue=queue, skill_id=skill_id, min_level=level)
        queues.append(queue)
        needs[queue.pk] = required
        served_by[queue.pk] = [teams[index].pk for index in team_indexes]
    team_skills: dict[int, dict[int, int]] = {team.pk: {} for team in teams}
    for queue in queues:
        for team_id in served_by[queue.pk]:
            for skill_id, level in needs[queue.pk].items():
                team_skills[team_id][skill_id] = max(team_skills[team_id].get(skill_id, 0), level)
    agent_group = Group.objects.get(name=roles.AGENT)
    users = User.objects.bulk_create(
        User(username=f"bench-agent-{n:04d}", password=UNUSABLE_PASSWORD)
        for n in range(args.agents)
    )
    agent_group.user_set.add(*users)
    agents = Agent.objects.bulk_create(
        Agent(user=user, team=teams[n % len(teams)], extension=f"{20000 + n}")
        for n, user in enumerate(users)
    )
    agent_skills = []
    presences = []
    for agent in agents:
        levels = {
            skill_id: rng.randint(minimum, 10)
            for skill_id, minimum in team_skills[agent.team_id].items()
        }
        for skill in rng.sample(skills, 4):
            levels.setdefault(skill.pk, rng.randint(1, 10))
        agent_skills += [
            AgentSkill(agent=agent, skill_id=skill_id, level=level)
            for skill_id, level in levels.items()
        ]
        presences.append(
            AgentPresence(
                agent=agent,
                state="on_call",
                state_since=now,
                idle_since=now - timedelta(hours=1),
                session_started_at=now - timedelta(hours=1),
                occupied_seconds=rng.uniform(0, 3000),
                skill_tokens=agent_tokens(levels),
            )
        )
    AgentSkill.objects.bulk_create(agent_skills, batch_size=5000)
    AgentPresence.objects.bulk_create(presences, batch_size=5000)
    return {"queues": [queue.slug for queue in queues], "agents": [a.pk for a in agents]}


def add_backlog(count: int, slugs: list[str], *, prefix: str) -> None:
    """Add waiting calls quickly (bulk), built with the enqueue service's own rules."""
    from django.utils import timezone

    from apps.routing import conf
    from apps.routing.matching import required_tokens
    from apps.routing.models import WaitingCall
    from apps.routing.priority import rank_at
    from apps.routing.selectors import queue_profile
    from apps.routing.services import call_requirements
    from apps.telephony.models import Call, FreeswitchNode

    rng = random.Random(hash(prefix) & 0xFFFF)
    now = timezone.now()
    node = FreeswitchNode.objects.get(name="bench")
    profiles = {
        (slug, tier): queue_profile(slug=slug, fallback=slug, tier=tier)
        for slug in slugs
        for tier in ("", "vip")
    }
    calls = Call.objects.bulk_create(
        (
            Call(
                node=node,
                uuid=f"{prefix}-{n}",
                direction="inbound",
                started_at=now,
                caller_number=f"555{n:07d}",
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    cache: dict[tuple[str, str, int], object] = {}
    rows = []
    for call in calls:
        slug = rng.choice(slugs)
        tier = "vip" if rng.random() < 0.1 else ""
        priority = rng.randint(0, 10)
        key = (slug, tier, priority)
        if key not in cache:
            cache[key] = call_requirements(
                queue=profiles[slug, tier], priority_value=priority, skills={}
            )
        needs = cache[key]
        enqueued = now - timedelta(seconds=rng.uniform(0, 300))
        rows.append(
            WaitingCall(
                queue_id=profiles[slug, ""].id,
                call_uuid=call.uuid,
                telephony_call_id=call.pk,
                telephony_node_id=node.pk,
                node="bench",
                caller_number=call.caller_number,
                priority=priority,
                tier=tier,
                requirements={str(k): v for k, v in needs.requirements.items()},
                required_tokens=required_tokens(needs.requirements),
                eligible_team_ids=needs.eligible_team_ids,
                base_priority=needs.base_priority,
                enqueued_at=enqueued,
                state_changed_at=enqueued,
                rank_at=rank_at(
                    enqueued_at=enqueued,
                    base=needs.base_priority,
                    aging_seconds=conf.aging_seconds_per_point(),
                ),
            )
        )
    WaitingCall.objects.bulk_create(rows, batch_size=5000)


def prepare_arrivals(count: int) -> list[tuple[int, str, str]]:
    from django.utils import timezone

    from apps.telephony.models import Call, FreeswitchNode

    node = FreeswitchNode.objects.get(name="bench")
    now = timezone.now()
    calls = Call.objects.bulk_create(
        (
            Call(
                node=node,
                uuid=f"arrival-{n}",
                direction="inbound",
                started_at=now,
                caller_number=f"556{n:07d}",
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    return [(call.pk, call.uuid, call.caller_number) for call in calls]


# ------------------------------------------------------------------------------------ workers


def process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class CpuMeter:
    """CPU used by this process and by its PostgreSQL backend since start()."""

    def start(self) -> None:
        self.backend = backend_pid()
        self.own = time.process_time()
        self.database = process_cpu_seconds(self.backend)

    def read(self) -> tuple[float, float]:
        return (
            time.process_time() - self.own,
            process_cpu_seconds(self.backend) - self.database,
        )


def router_worker(stop, results, routing_only: bool, batch: int) -> None:  # type: ignore[no-untyped-def]
    """A router process, as ``manage.py run_router`` runs it: report the timing of its turns.

    Each turn is apps.routing.router_process.router_turn: take the router events queued in Redis
    (published by the services after their commits), up to ``batch``, and decide on them in one
    transaction, the originates published in one Celery message after the commit. A decision's
    finish is the end of its turn (committed, ring on its way), its service time the turn's.
    """
    from django.db import connections

    from apps.routing import telephony_gateway
    from apps.routing.router_process import router_turn

    connections.close_all()
    if routing_only:
        # Diagnostic: the decision without telephony's command request (and its Celery message).
        telephony_gateway.request_agent_rings = lambda reservations: None
    meter = CpuMeter()
    meter.start()
    while not stop.is_set():
        turn = router_turn(limit=batch, timeout=0.1)
        for event, reservation in turn.decisions:
            decided = (
                None
                if reservation is None
                else (reservation.agent_id, reservation.waiting_call_id, reservation.offer_id)
            )
            results.put(
                (
                    event.kind,
                    event.published_at,
                    turn.started_at,
                    turn.finished_at,
                    decided,
                    turn.finished_at,
                )
            )
    results.put(("cpu", *meter.read()))
    connections.close_all()


def start_workers(count: int, routing_only: bool = False, batch: int = 32):
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.Queue()
    workers = [
        # Daemons: a failing bench must not leave routers behind (holding the bench lock).
        context.Process(
            target=router_worker, args=(stop, results, routing_only, batch), daemon=True
        )
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    return stop, results, workers


def stop_workers(stop, workers) -> None:  # type: ignore[no-untyped-def]
    stop.set()


def publish_agent_events(agent_ids: list[int]) -> None:
    """Agents became available: their events, as services publish them after commit."""
    from apps.routing import events

    for agent_id in agent_ids:
        events.publish(events.AGENT, agent_id)


# ------------------------------------------------------------------------------------- phases


def phase_capacity(args: argparse.Namespace, agent_ids: list[int]) -> dict[str, float]:
    from django.db import connection, connections
    from django.utils import timezone

    now = timezone.now()
    with connection.cursor() as cursor:
        # Everyone free at once, idle since a spread of recent moments.
        cursor.execute(
            "UPDATE routing_agentpresence SET state = 'available', state_since = %s, "
            "idle_since = %s - (agent_id %% 600) * interval '100 milliseconds'",
            [now, now],
        )
    connections.close_all()
    stop, results, workers = start_workers(args.workers, args.routing_only, args.batch)
    time.sleep(1.0)  # the routers are up and waiting
    began = time.time()
    publish_agent_events(agent_ids)
    outcomes = [results.get(timeout=300) for _ in agent_ids]
    ended = max(outcome[3] for outcome in outcomes)
    stop_workers(stop, workers)
    cpu = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    decided = [outcome for outcome in outcomes if outcome[4] is not None]
    service = [(outcome[5] - outcome[2]) * 1000 for outcome in decided]
    return {
        "router_cpu_ms": sum(item[1] for item in cpu) * 1000 / len(decided),
        "database_cpu_ms": sum(item[2] for item in cpu) * 1000 / len(decided),
        "decisions": len(decided),
        "seconds": ended - began,
        "per_second": len(decided) / (ended - began),
        "p50_ms": percentile(service, 0.5),
        "p99_ms": percentile(service, 0.99),
    }


def release(done: list[tuple[int, int, int]]) -> None:
    """Agents finish their calls: the call completes, the agent is available again."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    agents = [agent for agent, _call, _offer in done]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE routing_offer SET status = 'answered', answered_at = %s "
            "WHERE id = ANY(%s) AND status = 'ringing'",
            [now, [offer for _agent, _call, offer in done]],
        )
        cursor.execute(
            "UPDATE routing_waitingcall SET state = 'completed', state_changed_at = %s, "
            "connected_at = %s, ended_at = %s WHERE id = ANY(%s) AND state = 'offered'",
            [now, now, now, [call for _agent, call, _offer in done]],
        )
        cursor.execute(
            "UPDATE routing_agentpresence SET state = 'available', state_since = %s, "
            "idle_since = %s WHERE agent_id = ANY(%s) AND state = 'reserved'",
            [now, now, agents],
        )


class World:
    """The simulated contact center of the steady phase: arrivals and agents finishing calls."""

    def __init__(self, args, slugs, reserved, arrivals) -> None:  # type: ignore[no-untyped-def]
        self.args = args
        self.slugs = slugs
        self.arrivals = arrivals
        self.began = time.time()
        self.arrived = 0
        # The agents busy from the capacity phase finish over the first handle time.
        self.releases: list[tuple[float, tuple[int, int, int]]] = [
            (self.began + args.handle * (n + 1) / len(reserved), item)
            for n, item in enumerate(reserved)
        ]
        heapq.heapify(self.releases)

    def free_agents(self, now: float) -> None:
        due = []
        while self.releases and self.releases[0][0] <= now:
            due.append(heapq.heappop(self.releases)[1])
        if due:
            release(due)
            publish_agent_events([agent for agent, _call, _offer in due])

    def offered(self, outcome) -> None:  # type: ignore[no-untyped-def]
        if outcome[4] is not None:
            heapq.heappush(self.releases, (outcome[3] + self.args.handle, outcome[4]))


def arrival_worker(args, slugs, arrivals, began, seed, out) -> None:  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """An arrival process: Poisson arrivals at its share of ``--rate`` through the real service.

    The service stores the waiting call and, after its commit, queues the router event itself
    when an agent could take the call (as the telephony event process calls it in production).
    Several processes, because one arrival waits for its commit: one process alone cannot
    offer 500 per second.
    """
    from django.db import connections

    from apps.routing import services

    connections.close_all()
    rng = random.Random(seed)
    rate = args.rate / args.arrival_processes
    meter = CpuMeter()
    meter.start()
    arrived = 0
    next_arrival = began
    end = began + args.duration
    while time.time() < end and arrived < len(arrivals):
        now = time.time()
        while next_arrival <= now and arrived < len(arrivals):
            call_id, call_uuid, number = arrivals[arrived]
            arrived += 1
            services.waiting_call_enqueue(
                call_uuid=call_uuid,
                queue_slug=rng.choice(slugs),
                node="bench",
                telephony_call_id=call_id,
                caller_number=number,
                priority=rng.randint(0, 10),
                tier="vip" if rng.random() < 0.1 else "",
            )
            next_arrival += rng.expovariate(rate)
        time.sleep(0.0005)
    out.put((arrived, *meter.read()))
    connections.close_all()


def start_arrivals(args, slugs, arrivals, began):  # type: ignore[no-untyped-def]
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    count = args.arrival_processes
    processes = [
        context.Process(
            target=arrival_worker,
            args=(args, slugs, arrivals[number::count], began, 11 + number, out),
            daemon=True,
        )
        for number in range(count)
    ]
    for process in processes:
        process.start()
    return out, processes


def phase_steady(
    args: argparse.Namespace,
    slugs: list[str],
    reserved: list[tuple[int, int, int]],
    arrivals: list[tuple[int, str, str]],
) -> dict[str, float]:
    from django.db import connections

    from apps.routing.models import WaitingCall

    stop, results, workers = start_workers(args.workers, args.routing_only, args.batch)
    connections.close_all()
    time.sleep(1.0)  # the routers are up and waiting
    world = World(args, slugs, reserved, arrivals)
    arrived_out, arrival_processes = start_arrivals(args, slugs, arrivals, world.began)
    meter = CpuMeter()
    meter.start()
    outcomes = []
    end = world.began + args.duration
    while time.time() < end:
        now = time.time()
        world.free_agents(now)
        while True:
            try:
                outcome = results.get_nowait()
            except queue_module.Empty:
                break
            outcomes.append(outcome)
            world.offered(outcome)
        time.sleep(0.001)
    simulation_cpu = meter.read()
    arrival_reports = [arrived_out.get(timeout=60) for _ in arrival_processes]
    for process in arrival_processes:
        process.join(timeout=30)
    world.arrived = sum(report[0] for report in arrival_reports)
    stop_workers(stop, workers)
    cpu = []
    while len(cpu) < len(workers):
        outcome = results.get(timeout=120)
        (cpu if outcome[0] == "cpu" else outcomes).append(outcome)
    for worker in workers:
        worker.join(timeout=30)
    summary = summarize_steady(args, world, outcomes, WaitingCall.objects.filter(state="waiting"))
    decisions = sum(1 for outcome in outcomes if outcome[4] is not None)
    events_handled = len(outcomes)
    summary["router_cpu_ms_per_event"] = (
        sum(item[1] + item[2] for item in cpu) * 1000 / max(events_handled, 1)
    )
    summary["router_cpu_ms_per_decision"] = (
        sum(item[1] + item[2] for item in cpu) * 1000 / max(decisions, 1)
    )
    summary["arrival_cpu_ms"] = (
        sum(report[1] + report[2] for report in arrival_reports) * 1000 / max(world.arrived, 1)
    )
    summary["simulation_cpu_ms"] = sum(simulation_cpu) * 1000 / max(world.arrived, 1)
    return summary


def summarize_steady(args, world: World, outcomes, waiting) -> dict[str, float]:  # type: ignore[no-untyped-def]
    warm = world.began + 2.0
    window = [outcome for outcome in outcomes if outcome[1] >= warm]
    decided = [outcome for outcome in window if outcome[4] is not None]
    seconds = max(outcome[3] for outcome in window) - warm if window else float("nan")
    latency = [(outcome[3] - outcome[1]) * 1000 for outcome in decided]
    all_latency = [(outcome[3] - outcome[1]) * 1000 for outcome in window]
    service = [(outcome[5] - outcome[2]) * 1000 for outcome in decided]
    return {
        "arrivals": world.arrived,
        "arrivals_per_second": world.arrived / args.duration,
        "events_per_second": len(window) / seconds,
        "decisions_per_second": len(decided) / seconds,
        "latency_p50_ms": percentile(latency, 0.5),
        "latency_p99_ms": percentile(latency, 0.99),
        "event_latency_p99_ms": percentile(all_latency, 0.99),
        "service_p50_ms": percentile(service, 0.5),
        "service_p99_ms": percentile(service, 0.99),
        "waiting_at_end": waiting.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1500)
    parser.add_argument("--skills", type=int, default=60)
    parser.add_argument("--queues", type=int, default=40)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--handle",
        type=float,
        default=3.0,
        help="seconds from an offer until the agent is free again",
    )
    parser.add_argument(
        "--arrival-processes",
        type=int,
        default=2,
        help="processes calling the enqueue service (each waits for its commits)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=64,
        help="most events a router takes per turn (their originates leave in one message)",
    )
    parser.add_argument(
        "--routing-only",
        action="store_true",
        help="diagnostic: leave out telephony's originate request from each decision",
    )
    args = parser.parse_args()

    os.environ.update(bench_env())
    os.chdir(ROOT)
    recreate_database()
    flush_redis()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from apps.routing.models import Offer

    print(f"migrating {DATABASE} ...", flush=True)
    call_command("migrate", verbosity=0)
    started = time.time()
    world = seed(args)
    add_backlog(args.backlog, world["queues"], prefix="backlog")
    arrivals = prepare_arrivals(int(args.rate * args.duration * 1.2) + 100)
    print(
        f"seeded {args.agents} agents, {args.skills} skills, {args.queues} queues, "
        f"{args.backlog} waiting calls in {time.time() - started:.1f} s",
        flush=True,
    )

    mode = " (routing only: no telephony command)" if args.routing_only else ""
    print(f"load average before: {load_average()}{mode}", flush=True)
    capacity = phase_capacity(args, world["agents"])
    cpu = capacity["router_cpu_ms"] + capacity["database_cpu_ms"]
    print(
        f"\ncapacity: {capacity['decisions']} decisions in {capacity['seconds']:.2f} s "
        f"with {args.workers} router processes = {capacity['per_second']:.0f} decisions/s; "
        f"one decision p50 {capacity['p50_ms']:.2f} ms, p99 {capacity['p99_ms']:.2f} ms\n"
        f"  CPU per decision: router {capacity['router_cpu_ms']:.2f} ms + PostgreSQL "
        f"{capacity['database_cpu_ms']:.2f} ms = {cpu:.2f} ms, i.e. "
        f"{2000 / cpu:.0f} decisions/s if both cores were ours "
        f"(load average now {load_average()})",
        flush=True,
    )

    reserved = list(
        Offer.objects.filter(status="ringing").values_list("agent_id", "waiting_call_id", "pk")
    )
    add_backlog(args.backlog - _waiting_count(), world["queues"], prefix="topup")
    connections.close_all()
    steady = phase_steady(args, world["queues"], reserved, arrivals)
    print(
        f"\nsteady state ({args.duration:.0f} s, {args.rate:.0f} arrivals/s offered, "
        f"{args.handle:.1f} s per call, {args.workers} router processes):"
    )
    print(
        f"  arrivals        {steady['arrivals_per_second']:.0f}/s "
        f"({steady['arrivals']} calls enqueued by the real service, "
        f"{steady['arrival_cpu_ms']:.2f} ms CPU each incl. PostgreSQL, in "
        f"{args.arrival_processes} processes; agents' simulation "
        f"{steady['simulation_cpu_ms']:.2f} ms)"
    )
    print(
        f"  router events   {steady['events_per_second']:.0f}/s "
        f"(arrivals + agents freed), decisions {steady['decisions_per_second']:.0f}/s; "
        f"CPU {steady['router_cpu_ms_per_event']:.2f} ms per event incl. PostgreSQL"
    )
    print(
        f"  decision latency event -> committed offer, originate published: p50 "
        f"{steady['latency_p50_ms']:.2f} ms, p99 {steady['latency_p99_ms']:.2f} ms "
        f"(every event p99 {steady['event_latency_p99_ms']:.2f} ms)"
    )
    print(
        f"  one decision (router work only): p50 {steady['service_p50_ms']:.2f} ms, "
        f"p99 {steady['service_p99_ms']:.2f} ms"
    )
    print(f"  calls waiting at the end: {steady['waiting_at_end']}")
    print(f"load average after: {load_average()}")
    connections.close_all()
    flush_redis()


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _waiting_count() -> int:
    from apps.routing.models import WaitingCall

    return WaitingCall.objects.filter(state="waiting").count()


if __name__ == "__main__":
    main()
