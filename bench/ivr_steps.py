#!/usr/bin/env python
"""IVR step latency: requests per second and p50/p99 per step through /freeswitch/httapi/.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_ivr_bench \\
        .venv/bin/python bench/ivr_steps.py [--calls 300] [--warmup 20]

In process: Django's WSGI handler through django.test.Client (the whole middleware stack, URL
routing, basic-auth and address checks, the view, the engine, PostgreSQL writes of the path),
no socket. Requests are exactly what FreeSWITCH sends (the mod_httapi emulation built from the
captures: POST form bodies, the 34 base fields, the signed state, one-time input fields), and
every document answered is run by the same emulation to produce the next request.

The flow is the demo's shape plus an order-number step: language choice -> customer lookup ->
department menu -> 10-digit order number -> queue, then the exiting=true request. Each step kind
is timed separately. Creates the database if missing and migrates it; reruns reuse it.
One process, sequential requests: requests/s is the inverse of the mean step time. "cpu ms" is
this process's CPU time per request (the suite's own cost, without PostgreSQL's); the machine's
load average is printed because other work on the 2 cores inflates the wall-clock figures.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.dev")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cc_ivr_bench")

import dj_database_url  # noqa: E402
import django  # noqa: E402
import psycopg  # noqa: E402

USER, PASSWORD = "freeswitch", "bench-secret"
DID = "4009998888"
STEPS = (
    "first: language menu",
    "language -> lookup -> menu",
    "menu -> collect",
    "collect -> queue",
    "exiting",
)


def ensure_database(url: str) -> None:
    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def setup_flow() -> None:
    from apps.ivr import services
    from apps.ivr.models import Flow, FlowNode, InboundNumber, Prompt, PromptVariant

    if InboundNumber.objects.filter(number=DID).exists():
        return
    for name in ("choose-language", "menu", "order", "invalid", "hold"):
        prompt, _ = Prompt.objects.get_or_create(name=name)
        for language in ("zh-hans", "en"):
            PromptVariant.objects.get_or_create(
                prompt=prompt, language=language, defaults={"text": f"{name} {language}"}
            )
    flow = Flow.objects.create(
        name="Bench flow", default_language="zh-hans", languages=["zh-hans", "en"]
    )
    draft = services.flow_version_create_draft(actor=None, flow=flow)
    nodes = {
        "start": (
            "language",
            {"prompt": "choose-language", "options": {"1": "zh-hans", "2": "en"}, "next": "lookup"},
        ),
        "lookup": ("lookup_customer", {"next_found": "menu", "next_not_found": "menu"}),
        "menu": (
            "menu",
            {
                "prompt": "menu",
                "options": {"1": "order", "2": "q"},
                "on_failure": "q",
                "invalid_prompt": "invalid",
            },
        ),
        "order": (
            "collect",
            {
                "prompt": "order",
                "variable": "order_number",
                "min_length": 10,
                "max_length": 10,
                "next": "q",
                "on_failure": "q",
            },
        ),
        "q": ("queue", {"queue": "sales", "prompt": "hold", "priority": 3}),
    }
    FlowNode.objects.bulk_create(
        [
            FlowNode(version=draft, key=key, kind=kind, config=config, position=index)
            for index, (key, (kind, config)) in enumerate(nodes.items())
        ]
    )
    from apps.ivr import integrations

    # The bench measures the IVR, not routing's queue table: skip the queue-name check.
    original = integrations.queue_slugs
    integrations.queue_slugs = lambda: None
    try:
        services.flow_version_publish(actor=None, version=draft)
    finally:
        integrations.queue_slugs = original
    InboundNumber.objects.create(number=DID, flow=flow)


def one_call(
    client, timings: dict[str, list[float]] | None, cpu: dict[str, list[float]] | None = None
) -> None:
    from apps.ivr.fs_emulator import CallerScript, HttapiProfile, HttapiSession, caller_fields

    session_id = str(uuid.uuid4())
    session = HttapiSession(
        session_id=session_id,
        caller=caller_fields(
            uuid=session_id,
            caller_number="13800138000",
            destination=DID,
            created_us=int(time.time() * 1e6),
        ),
        app_data="{httapi_profile=default,url=http://127.0.0.1/freeswitch/httapi/}",
        profile=HttapiProfile(method="POST"),
    )
    script = CallerScript(inputs=["2", "1", "1234567890#"])
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for step in STEPS:
        request = session.exiting_request() if step == "exiting" else session.next_request()
        body = request.encoded()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.generic(
            "POST",
            "/freeswitch/httapi/",
            data=body,
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=auth,
            HTTP_USER_AGENT="mod_httapi/1.0",
            HTTP_ACCEPT="*/*",
            HTTP_COOKIE="",
        )
        elapsed = time.perf_counter() - started
        if timings is not None and cpu is not None:
            timings[step].append(elapsed)
            cpu[step].append(time.process_time() - cpu_started)
        if response.status_code != 200:
            raise SystemExit(f"{step}: HTTP {response.status_code}")
        if step != "exiting":
            result = session.handle_response(
                status=200,
                content_type=response["Content-Type"],
                body=response.content,
                script=script,
            )
            expected = "break" if step == "collect -> queue" else "next"
            if result.end != expected:
                raise SystemExit(f"{step}: the call ended with {result.end} ({result.reason})")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log: measure what production does
    settings.FREESWITCH_XML_USERNAME = USER
    settings.FREESWITCH_XML_PASSWORD = PASSWORD
    settings.FREESWITCH_XML_ALLOWED_IPS = ["127.0.0.1"]
    settings.IVR_TTS_COMMAND = []
    setup_flow()
    client = Client(HTTP_HOST="127.0.0.1")
    for _ in range(args.warmup):
        one_call(client, None)
    timings: dict[str, list[float]] = {step: [] for step in STEPS}
    cpu: dict[str, list[float]] = {step: [] for step in STEPS}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for _ in range(args.calls):
        one_call(client, timings, cpu)
    wall = time.perf_counter() - started
    requests = sum(len(values) for values in timings.values())
    print(
        f"IVR steps, in-process WSGI (django.test.Client), PostgreSQL, one process, "
        f"{args.calls} calls ({requests} requests) after {args.warmup} warm-up calls"
    )
    print(
        f"machine load average (1 min) before/after: {load_before:.2f} / "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    print(
        f"{'step':<30} {'n':>6} {'mean ms':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'cpu ms':>7}"
    )
    for step, values in timings.items():
        ms = [value * 1000 for value in values]
        cpu_ms = statistics.fmean(cpu[step]) * 1000
        print(
            f"{step:<30} {len(ms):>6} {statistics.fmean(ms):>9.2f} "
            f"{percentile(ms, 0.5):>8.2f} {percentile(ms, 0.99):>8.2f} {max(ms):>8.2f} "
            f"{cpu_ms:>7.2f}"
        )
    every = [value * 1000 for values in timings.values() for value in values]
    print(
        f"{'all steps':<30} {len(every):>6} {statistics.fmean(every):>9.2f} "
        f"{percentile(every, 0.5):>8.2f} {percentile(every, 0.99):>8.2f} {max(every):>8.2f}"
    )
    print(
        f"throughput: {requests / wall:.0f} requests/s sequential "
        f"(wall {wall:.1f} s, emulation of FreeSWITCH included in the wall time)"
    )
    worst = max(percentile([v * 1000 for v in values], 0.99) for values in timings.values())
    print(
        f"target p99 < 15 ms per step: {'met' if worst < 15 else 'NOT met'} "
        f"(worst step p99 {worst:.2f} ms)"
    )


if __name__ == "__main__":
    main()
