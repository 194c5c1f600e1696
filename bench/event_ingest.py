#!/usr/bin/env python
"""Event ingest end to end: simulator -> event process -> PostgreSQL and the channel layer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_telephony_bench \\
        .venv/bin/python bench/event_ingest.py [--rate 500] [--seconds 10] [--agents 50]

The FreeSWITCH simulator runs in a child process (its CPU is not ours) and generates calls at
``--rate`` per second: each caller dials one of ``--agents`` DIDs whose dialplan answers, sets
``cc_queue`` and bridges to that agent's registered phone; the phone answers after 0.2 s, the
call talks 1-2 s and hangs up. This process is the event process itself, as ``manage.py
telephony_events`` runs it: gevent monkey-patched first, one ``NodeIngest`` (ESL reader ->
bounded buffer -> batching writer) writing Call/CallLeg/CDR rows to PostgreSQL and pushing the
agents' legs to their Channels groups (Redis) after each commit.

Prints: events/s ingested (first arrival to last commit, which includes the ~4 s in which the
last calls talk and hang up), calls/legs/CDRs written, the lag from an event's arrival at the
reader to the commit of its batch (p50/p99/max) and from its Event-Date-Timestamp (when the
simulator fired it: includes time in the socket when the reader falls behind), the lag to the
announcement and to the browser push, pushes sent, the CPU this process used per event and the
garbage collector's pauses. When ingest cannot keep up with the
offered rate the backlog grows for the whole run and the lag figures measure that backlog; the
CPU per event is then the figure that says what one core sustains. Creates and migrates the
database when missing. Target (issue #3): 500 new calls/s (~6,000 events/s), p99 lag < 1 s.

Options: ``--no-pushes`` (no agent records: nothing to push to browsers), ``--with-subscribers``
(keep other apps' domain-event handlers; by default only telephony's own pipeline is measured),
``--profile`` (cProfile of this process's main thread).
"""

import sys

if "--serve" not in sys.argv:
    # The event process patches before Django, psycopg or redis import socket (as
    # manage.py telephony_events does); the simulator child is plain asyncio.
    from gevent import monkey

    monkey.patch_all()

import argparse
import gc
import json
import os
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIDS_FROM = 4001
EXTENSIONS_FROM = 1001


def serve(options: argparse.Namespace) -> None:
    """Child process: run the simulator; start the traffic when told on stdin."""
    import asyncio

    from apps.telephony.simulator import (
        AgentProfile,
        Answer,
        Bridge,
        CallerPool,
        SetVar,
        Simulator,
        SimulatorConfig,
        TrafficGenerator,
        TrafficProfile,
    )

    async def main() -> None:
        simulator = Simulator(
            SimulatorConfig(
                port=0, heartbeat_interval=20, playback_seconds=0.5, max_sessions=100_000
            )
        )
        port = await simulator.start()
        dids = [str(DIDS_FROM + index) for index in range(options.agents)]
        for index, did in enumerate(dids):
            simulator.set_route(
                did,
                [
                    Answer(),
                    SetVar("cc_queue", "sales"),
                    Bridge(f"user/{EXTENSIONS_FROM + index}", timeout=10),
                ],
            )
        generator = TrafficGenerator(
            simulator,
            TrafficProfile(
                rate=options.rate,
                arrival="fixed",
                duration=options.seconds,
                dids=dids,
                talk_time=(1.0, 2.0),
                ivr_choices=("",),
                callers=CallerPool(seed=1),
                seed=1,
            ),
            AgentProfile(
                count=options.agents,
                first_extension=EXTENSIONS_FROM,
                answer_after=(0.2, 0.2),
                seed=1,
            ),
        )
        generator.register_agents()
        print(port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        started = time.perf_counter()
        stats = await generator.run()
        elapsed = time.perf_counter() - started
        await asyncio.sleep(4.0)  # let the last calls talk and hang up
        print(json.dumps({"calls": stats.calls_placed, "elapsed": elapsed}), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        await simulator.stop()

    asyncio.run(main())


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.dev")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cc_telephony_bench")
    # Keep the bench's Redis traffic away from the demo's databases.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    os.environ.setdefault("CHANNEL_LAYER_URL", "redis://127.0.0.1:6379/4")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.core.database import database_create_if_missing

    database_create_if_missing(connection.settings_dict)
    call_command("migrate", verbosity=0)


class _GcPauses:
    """Time the garbage collector's passes (a full pass over a large heap stops everything)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._started)

    def summary(self) -> str:
        return ", ".join(
            f"gen{gen} {len(times)} x, {sum(times):.2f} s "
            f"(max {max(times, default=0) * 1000:.0f} ms)"
            for gen, times in self.pauses.items()
        )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _start_simulator(options: argparse.Namespace) -> tuple[subprocess.Popen, int]:
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--rate",
            str(options.rate),
            "--seconds",
            str(options.seconds),
            "--agents",
            str(options.agents),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if child.stdin is None or child.stdout is None:
        raise SystemExit("cannot talk to the simulator process")
    return child, int(child.stdout.readline())


def _prepare_records(options: argparse.Namespace, port: int) -> Any:
    """Create the node record and (unless --no-pushes) the agents the phones belong to."""
    from django.db import connection, transaction

    from apps.accounts.models import Agent, Team, User
    from apps.telephony.models import FreeswitchNode

    # Start every run from clean tables: the dead rows of a previous run (until autovacuum
    # gets to them) would slow this run's updates.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE telephony_cdr, telephony_callrecording, telephony_callcommand, "
            "telephony_callleg, telephony_call CASCADE"
        )
        cursor.execute("VACUUM ANALYZE telephony_call, telephony_callleg, telephony_cdr")
    with transaction.atomic():
        FreeswitchNode.objects.filter(name="bench").delete()
        node = FreeswitchNode.objects.create(
            name="bench",
            host="127.0.0.1",
            port=port,
            password="ClueCon",  # noqa: S106  (the simulator's loopback-only default)
        )
        team, _ = Team.objects.get_or_create(name="Bench team")
        if options.no_pushes:
            Agent.objects.filter(team=team).delete()
            return node
        for index in range(options.agents):
            extension = str(EXTENSIONS_FROM + index)
            if not Agent.objects.filter(extension=extension).exists():
                user, _ = User.objects.get_or_create(username=f"bench-agent-{extension}")
                Agent.objects.create(user=user, team=team, extension=extension)
    return node


def _ms(values: list[float], fraction: float) -> str:
    return f"{_percentile(values, fraction) * 1000:.0f}"


def _report(options: argparse.Namespace, node: Any, ingest: Any, run: dict[str, Any]) -> None:
    from apps.telephony.models import Call, CallLeg, Cdr

    summary, stats, pushes = run["summary"], ingest.stats, ingest.push_sender.stats
    ingested, window = run["ingested"], run["window"]
    calls = Call.objects.filter(node=node)
    print(
        f"calls placed (simulator) : {summary['calls']} in {summary['elapsed']:.2f} s "
        f"({summary['calls'] / summary['elapsed']:.0f} calls/s, target {options.rate:g})"
    )
    print(
        f"events ingested          : {ingested} in {window:.2f} s -> "
        f"{ingested / window:.0f} events/s ({ingested / max(summary['calls'], 1):.1f}/call, "
        f"{summary['calls'] / window:.0f} calls/s), dropped {stats.dropped}"
    )
    print(
        f"rows written             : {calls.count()} calls "
        f"({calls.filter(state='ended').count()} ended), "
        f"{CallLeg.objects.filter(node=node).count()} legs, "
        f"{Cdr.objects.filter(node=node).count()} CDRs"
    )
    print(
        f"batches                  : {stats.batches} "
        f"(mean {ingested / max(stats.batches, 1):.0f} events)"
    )
    if run["lags"]:
        print(
            f"lag arrival->commit (ms) : p50 {_ms(run['lags'], 0.5)}  "
            f"p99 {_ms(run['lags'], 0.99)}  max {max(run['lags']) * 1000:.0f}"
        )
    if run["source_lags"]:
        print(
            f"lag fired->commit (ms)   : p50 {_ms(run['source_lags'], 0.5)}  "
            f"p99 {_ms(run['source_lags'], 0.99)}  max {max(run['source_lags']) * 1000:.0f}  "
            "(from Event-Date-Timestamp: includes the time in socket buffers)"
        )
    if stats.publish_lags:
        print(
            f"lag commit->announced(ms): p50 {_ms(stats.publish_lags, 0.5)}  "
            f"p99 {_ms(stats.publish_lags, 0.99)}  (hold music, domain-event subscribers)"
        )
    print(
        f"channel-layer pushes     : {pushes.sent} sent in {run['push_window']:.2f} s, "
        f"{pushes.failed} failed, {pushes.dropped} dropped"
    )
    if pushes.lags:
        print(
            f"lag commit->pushed (ms)  : p50 {_ms(pushes.lags, 0.5)}  p99 {_ms(pushes.lags, 0.99)}"
        )
    print(
        f"event process CPU        : {run['cpu']:.1f} s over {window:.1f} s "
        f"({100 * run['cpu'] / window:.0f} % of one core, "
        f"{1000 * run['cpu'] / max(ingested, 1):.2f} ms/event)"
    )
    print(f"garbage collector        : {run['gc']}")
    print(f"load average             : {os.getloadavg()[0]:.2f} (2 cores, shared)")


def drive(options: argparse.Namespace) -> None:
    """Parent process: the event process under measurement."""
    _setup_django()
    import gevent

    from apps.telephony.event_process import NodeIngest, tune_gc

    child, port = _start_simulator(options)
    node = _prepare_records(options, port)
    if not options.with_subscribers:
        # Measure telephony's own pipeline; other apps' handlers are theirs to measure.
        from apps.telephony import domain_events

        domain_events._subscribers.clear()
    trace, source_lags = _install_trace(NodeIngest)
    gc_pauses = _GcPauses()
    ingest = NodeIngest(
        node,
        batch_size=options.batch_size,
        batch_wait=options.batch_wait_ms / 1000,
        buffer_size=100_000,
    )
    tune_gc()  # as manage.py telephony_events does
    ingest.start()
    if not ingest.connection.wait_until_up(10):
        raise SystemExit("could not connect to the simulator")
    ingest.wait_idle(30)
    ingest.stats.lags.clear()
    trace.clear()
    source_lags.clear()
    gc.callbacks.append(gc_pauses)
    received_before, ingested_before = ingest.stats.received, ingest.stats.ingested
    profiler = None
    if options.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu_before = _cpu_seconds()
    child.stdin.write("go\n")
    child.stdin.flush()
    started = time.monotonic()
    summary_line = gevent.spawn(child.stdout.readline)
    first_arrival = _wait_for_the_end(ingest, summary_line, received_before)
    # The last commit, not the end of the wait (which waited for a quiet second).
    finished = trace[-1][0] + trace[-1][1] if trace else time.monotonic()
    gc.callbacks.remove(gc_pauses)
    ingest.push_sender.wait_idle(120)
    run = {
        "summary": json.loads(summary_line.get()),
        "ingested": ingest.stats.ingested - ingested_before,
        "window": finished - (first_arrival or started),
        "push_window": time.monotonic() - (first_arrival or started),
        "lags": list(ingest.stats.lags),
        "source_lags": source_lags,
        "cpu": _cpu_seconds() - cpu_before,
        "gc": gc_pauses.summary(),
    }
    if profiler is not None:
        import pstats

        profiler.disable()
        if options.profile_file:
            profiler.dump_stats(options.profile_file)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    ingest.stop()
    child.stdin.write("stop\n")
    child.stdin.flush()
    child.wait(10)
    _report(options, node, ingest, run)
    if options.trace:
        _print_trace(trace)


def _wait_for_the_end(ingest: Any, summary_line: Any, received_before: int) -> float | None:
    """Wait until every event is written; return when the first one arrived.

    The simulator must be done and no event have come for a second: a reader that fell
    behind still has events in the socket while the buffer is momentarily empty.
    """
    import gevent

    first_arrival = None
    last_received, quiet_since = received_before, time.monotonic()
    while not summary_line.ready() or ingest.pending or time.monotonic() - quiet_since < 1.0:
        received = ingest.stats.received
        if first_arrival is None and received > received_before:
            first_arrival = time.monotonic()
        if received != last_received:
            last_received, quiet_since = received, time.monotonic()
        gevent.sleep(0.05)
    ingest.wait_idle(120)
    return first_arrival


def _install_trace(ingest_class: Any) -> tuple[list[tuple[float, float, int, int]], list[float]]:
    """Record (start, duration, events, events still buffered) for every batch written, and
    each event's lag from its Event-Date-Timestamp (the simulator stamps it when it fires the
    event, on this machine's clock) to its batch's commit."""
    trace: list[tuple[float, float, int, int]] = []
    source_lags: list[float] = []
    original = ingest_class._write_batch

    def traced(self: Any, batch: list[Any]) -> None:
        started = time.monotonic()
        original(self, batch)
        trace.append((started, time.monotonic() - started, len(batch), len(self._buffer)))
        committed = time.time() * 1_000_000
        source_lags.extend(
            (committed - int(event.headers.get("Event-Date-Timestamp") or committed)) / 1e6
            for event in batch
        )

    ingest_class._write_batch = traced
    return trace, source_lags


def _print_trace(trace: list[tuple[float, float, int, int]]) -> None:
    """Per second of the run: batches written, events, time spent writing, longest batch,
    and the most events waiting in the buffer behind a batch."""
    origin = trace[0][0]
    print("second  batches  events  writing(ms)  longest(ms)  backlog")
    for second in range(int(trace[-1][0] - origin) + 1):
        rows = [row for row in trace if int(row[0] - origin) == second]
        if rows:
            print(
                f"{second:6d}  {len(rows):7d}  {sum(r[2] for r in rows):6d}  "
                f"{sum(r[1] for r in rows) * 1000:11.0f}  "
                f"{max(r[1] for r in rows) * 1000:11.0f}  {max(r[3] for r in rows):7d}"
            )


def main() -> None:
    """Parse options and run the event process or the simulator child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="new calls per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to generate")
    parser.add_argument("--agents", type=int, default=50, help="agent phones (and DIDs)")
    parser.add_argument("--batch-size", type=int, default=2000, help="the event process's default")
    parser.add_argument(
        "--with-subscribers",
        action="store_true",
        help="keep other apps' domain-event handlers (routing, console) subscribed",
    )
    parser.add_argument("--batch-wait-ms", type=int, default=5, help="the event process's default")
    parser.add_argument(
        "--no-pushes",
        action="store_true",
        help="no agent records: legs map to no agent, nothing is pushed to browsers",
    )
    parser.add_argument("--profile", action="store_true", help="print where this process spent")
    parser.add_argument(
        "--trace", action="store_true", help="print a per-second timeline of the batch writes"
    )
    parser.add_argument("--profile-file", help="with --profile: also save the pstats data here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options)
    else:
        drive(options)


if __name__ == "__main__":
    main()
