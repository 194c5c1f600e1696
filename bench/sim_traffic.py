"""Load benchmark of the FreeSWITCH simulator: calls/s in, events/s out to one ESL client.

Runs the simulator in a child process (as ``manage.py fs_simulator`` would run) and one raw
ESL client here, subscribed to ``event plain ALL`` (or json). Traffic starts once the client
is subscribed. Prints: calls placed per second, events and MB per second received, the
simulator's CPU use, and the delivery lag (receipt time minus Event-Date-Timestamp).

    .venv/bin/python bench/sim_traffic.py --rate 500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_TIMESTAMP = re.compile(rb"Event-Date-Timestamp: (\d+)")
_SEQUENCE = re.compile(rb"Event-Sequence: (\d+)")
_TIMESTAMP_JSON = re.compile(rb'"Event-Date-Timestamp":"(\d+)"')
_SEQUENCE_JSON = re.compile(rb'"Event-Sequence":"(\d+)"')


def serve(options: argparse.Namespace) -> None:
    """Child process: run the simulator; start the traffic when told on stdin."""
    from apps.telephony.simulator import (
        AgentProfile,
        Simulator,
        SimulatorConfig,
        TrafficGenerator,
        TrafficProfile,
    )

    async def main() -> None:
        config = SimulatorConfig(port=0, heartbeat_interval=20, playback_seconds=0.5)
        simulator = Simulator(config)
        port = await simulator.start()
        print(port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        generator = TrafficGenerator(
            simulator,
            TrafficProfile(
                rate=options.rate,
                arrival="fixed",
                duration=options.seconds,
                talk_time=(1.0, 3.0),
                patience=(options.hold, options.hold * 2),
                seed=1,
            ),
            AgentProfile(count=0),
        )
        started = time.perf_counter()
        stats = await generator.run()
        elapsed = time.perf_counter() - started
        await asyncio.sleep(options.hold * 2 + 1)
        print(
            json.dumps(
                {
                    "calls": stats.calls_placed,
                    "elapsed": elapsed,
                    "sequence": simulator.switch.factory.last_sequence,
                }
            ),
            flush=True,
        )
        await simulator.stop()

    asyncio.run(main())


def cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(options: argparse.Namespace) -> None:
    """Parent process: subscribe, start traffic, measure what arrives."""
    child = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, __file__, "--serve", "--rate", str(options.rate),
         "--seconds", str(options.seconds), "--hold", str(options.hold)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    port = int(child.stdout.readline())
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.sendall(f"auth ClueCon\n\nevent {options.format} ALL\n\n".encode())
    received = bytearray()
    while received.count(b"Reply-Text: +OK") < 2:
        received += sock.recv(65536)
    cpu_before = cpu_seconds(child.pid)
    child.stdin.write("go\n")
    child.stdin.flush()
    start = time.monotonic()
    total = 0
    buffer = b""
    events = 0
    lags: list[float] = []
    sequences: list[int] = []
    timestamp_re = _TIMESTAMP if options.format == "plain" else _TIMESTAMP_JSON
    sequence_re = _SEQUENCE if options.format == "plain" else _SEQUENCE_JSON
    marker = b"Content-Type: text/event-" + options.format.encode()
    sock.settimeout(options.hold * 2 + 3)
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            now_us = time.time() * 1_000_000
            total += len(chunk)
            buffer += chunk
            events += chunk.count(marker)
            # Sample the lag and sequence of the last complete event in this read.
            stamps = timestamp_re.findall(chunk)
            if stamps:
                lags.append((now_us - int(stamps[-1])) / 1000)
            sequences.extend(int(s) for s in sequence_re.findall(chunk))
            buffer = buffer[-4096:]
    except TimeoutError:
        pass
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(child.pid) - cpu_before
    summary = json.loads(child.stdout.readline())
    child.wait(10)
    lags.sort()
    in_order = all(a < b for a, b in zip(sequences, sequences[1:], strict=False))
    busy = summary["elapsed"] + options.hold * 2
    print(f"calls placed         : {summary['calls']} in {summary['elapsed']:.2f} s "
          f"({summary['calls'] / summary['elapsed']:.0f} calls/s, target {options.rate:g})")
    print(f"events received      : {events} ({events / busy:.0f} events/s over the "
          f"{busy:.1f} s of traffic incl. teardown; {events / max(summary['calls'], 1):.1f}/call)")
    print(f"bytes received       : {total / 1e6:.1f} MB ({total / 1e6 / busy:.1f} MB/s)")
    print(f"simulator CPU        : {cpu:.2f} s over {elapsed:.1f} s "
          f"({100 * cpu / elapsed:.0f} % of one core)")
    if lags:
        p50 = lags[len(lags) // 2]
        p99 = lags[int(len(lags) * 0.99)]
        print(f"delivery lag (ms)    : p50 {p50:.1f}  p99 {p99:.1f}  max {lags[-1]:.1f}")
    print(f"Event-Sequence order : {'strictly increasing' if in_order else 'OUT OF ORDER'}"
          f" ({len(sequences)} seen, last {summary['sequence']})")


def main() -> None:
    """Parse options and run the driver or the child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="new calls per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to generate")
    parser.add_argument("--hold", type=float, default=2.0, help="callers wait 1-2x this, s")
    parser.add_argument("--format", choices=("plain", "json"), default="plain")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options)
    else:
        drive(options)


if __name__ == "__main__":
    main()
