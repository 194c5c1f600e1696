"""Load benchmark of the FreeSWITCH simulator: calls/s in, events/s out to one ESL client.

Runs the simulator in a child process (as ``manage.py fs_simulator`` would run) and one raw
ESL client here, subscribed to ``event plain ALL`` (or json, or the ``--events`` names).
Traffic starts once the client is subscribed. Each call is answered and parked (the default
dialplan) and the caller hangs up after 1-2x ``--hold`` seconds, so calls are set up and torn
down at the same rate. Prints: calls placed per second, events and MB per second received,
the simulator's CPU use, the delivery lag (receipt time minus Event-Date-Timestamp) and the
Event-Sequence order.

    .venv/bin/python bench/sim_traffic.py --rate 500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_TIMESTAMP = re.compile(rb"Event-Date-Timestamp: (\d+)\n")
_SEQUENCE = re.compile(rb"Event-Sequence: (\d+)\n")
_TIMESTAMP_JSON = re.compile(rb'"Event-Date-Timestamp":"(\d+)"')
_SEQUENCE_JSON = re.compile(rb'"Event-Sequence":"(\d+)"')


def serve(options: argparse.Namespace) -> None:
    """Child process: run the simulator; start the traffic when told on stdin."""
    from apps.telephony.simulator import (
        Simulator,
        SimulatorConfig,
        TrafficGenerator,
        TrafficProfile,
    )

    async def run() -> None:
        simulator = Simulator(SimulatorConfig(port=0, heartbeat_interval=20))
        port = await simulator.start()
        print(port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        profile = TrafficProfile(
            rate=options.rate,
            arrival="fixed",
            duration=options.seconds,
            patience=(options.hold, options.hold * 2),
            seed=1,
        )
        generator = TrafficGenerator(simulator, profile)
        started = time.perf_counter()
        stats = await generator.run()
        elapsed = time.perf_counter() - started
        await asyncio.sleep(options.hold * 2 + 1)
        summary = {
            "calls": stats.calls_placed,
            "elapsed": elapsed,
            "sequence": simulator.switch.factory.last_sequence,
        }
        print(json.dumps(summary), flush=True)
        await simulator.stop()

    asyncio.run(run())


def cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Received:
    """What the client measured."""

    events: int = 0
    total_bytes: int = 0
    lags_ms: list[float] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)


def start_child(options: argparse.Namespace) -> tuple[subprocess.Popen[str], int]:
    """Start the simulator process; return it and its ESL port."""
    command = [sys.executable, __file__, "--serve"]
    command += ["--rate", str(options.rate), "--seconds", str(options.seconds)]
    command += ["--hold", str(options.hold)]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if child.stdout is None:
        raise RuntimeError("no pipe to the simulator")
    return child, int(child.stdout.readline())


def receive(sock: socket.socket, fmt: str, idle: float) -> Received:
    """Read events until the simulator has been quiet for ``idle`` seconds."""
    result = Received()
    timestamp_re = _TIMESTAMP if fmt == "plain" else _TIMESTAMP_JSON
    sequence_re = _SEQUENCE if fmt == "plain" else _SEQUENCE_JSON
    marker = b"Content-Type: text/event-" + fmt.encode()
    buffer = b""
    sock.settimeout(idle)
    try:
        while chunk := sock.recv(1 << 20):
            now_us = time.time() * 1_000_000
            result.total_bytes += len(chunk)
            # Headers cut by a read boundary are completed by the next read: scan the tail
            # of the previous read together with this one, and keep the unscanned tail.
            window = buffer + chunk
            result.events += window.count(marker) - buffer.count(marker)
            cut = max(window.rfind(b"\n\n"), 0)
            scanned, buffer = window[:cut], window[cut:]
            stamps = timestamp_re.findall(scanned)
            if stamps:
                result.lags_ms.append((now_us - int(stamps[-1])) / 1000)
            result.sequences.extend(int(s) for s in sequence_re.findall(scanned))
    except TimeoutError:
        pass
    return result


def drive(options: argparse.Namespace) -> None:
    """Parent process: subscribe, start the traffic, measure what arrives."""
    child, port = start_child(options)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.sendall(f"auth ClueCon\n\nevent {options.format} {options.events}\n\n".encode())
    greeting = bytearray()
    while greeting.count(b"Reply-Text: +OK") < 2:
        greeting += sock.recv(65536)
    cpu_before = cpu_seconds(child.pid)
    started = time.monotonic()
    if child.stdin is None or child.stdout is None:
        raise RuntimeError("no pipe to the simulator")
    child.stdin.write("go\n")
    child.stdin.flush()
    result = receive(sock, options.format, options.hold * 2 + 3)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(child.pid) - cpu_before
    summary = json.loads(child.stdout.readline())
    child.wait(10)
    report(options, summary, result, cpu, elapsed)


def report(
    options: argparse.Namespace,
    summary: dict[str, float],
    result: Received,
    cpu: float,
    elapsed: float,
) -> None:
    """Print the figures."""
    calls, generated = summary["calls"], summary["elapsed"]
    busy = generated + options.hold * 2
    lags = sorted(result.lags_ms)
    in_order = all(a < b for a, b in itertools.pairwise(result.sequences))
    print(
        f"calls placed         : {calls:.0f} in {generated:.2f} s "
        f"({calls / generated:.0f} calls/s, target {options.rate:g})"
    )
    print(
        f"events received      : {result.events} ({result.events / busy:.0f} events/s over the "
        f"{busy:.1f} s of traffic incl. teardown; {result.events / max(calls, 1):.1f}/call)"
    )
    print(
        f"bytes received       : {result.total_bytes / 1e6:.1f} MB "
        f"({result.total_bytes / 1e6 / busy:.1f} MB/s)"
    )
    print(
        f"simulator CPU        : {cpu:.2f} s over {elapsed:.1f} s "
        f"({100 * cpu / elapsed:.0f} % of one core; {1000 * cpu / max(calls, 1):.2f} ms/call)"
    )
    if lags:
        p50, p99 = lags[len(lags) // 2], lags[int(len(lags) * 0.99)]
        print(f"delivery lag (ms)    : p50 {p50:.1f}  p99 {p99:.1f}  max {lags[-1]:.1f}")
    order = "strictly increasing" if in_order else "OUT OF ORDER"
    print(
        f"Event-Sequence order : {order} "
        f"({len(result.sequences)} seen, last {summary['sequence']:.0f})"
    )


def main() -> None:
    """Parse options and run the driver or the child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="new calls per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to generate")
    parser.add_argument("--hold", type=float, default=2.0, help="callers stay 1-2x this, s")
    parser.add_argument("--format", choices=("plain", "json"), default="plain")
    parser.add_argument(
        "--events", default="ALL", help="space-separated event names to subscribe to"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options)
    else:
        drive(options)


if __name__ == "__main__":
    main()
