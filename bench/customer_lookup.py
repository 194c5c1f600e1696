"""Customer lookup by phone through the API, and the screen-pop timeline query, at scale.

    .venv/bin/python bench/customer_lookup.py [--customers 1000000] [--interactions 5000000]

1. Creates the bench database (cc_bench, never the development one), migrates it and loads
   1,000,000 customers (with 1.7 million phone and e-mail identities) and 5,000,000 interactions
   with PostgreSQL COPY through psycopg; secondary indexes and foreign keys are dropped for the
   load and rebuilt after it. A database already holding the wanted volume is reused
   (--rebuild forces a new load).
2. Starts a real uvicorn on loopback serving the ASGI application with the production settings
   profile (DEBUG off, throttling, audit and locale middleware on; CONN_MAX_AGE=0 as Django
   requires under ASGI), and looks customers up as the CRM service account does, with a token:
   GET /api/v1/customers/lookup/?phone=... (one customer or 404) and the list filter
   GET /api/v1/customers/?phone=...; numbers in mixed formats (13812345678, +86 138...,
   0086..., 86..., +1 415...), 5% unknown. Clients are separate processes with keep-alive
   connections, on the same two cores as the server and PostgreSQL. Figures: one client
   (latency), then concurrent clients (throughput); then the same lookup through Django's WSGI
   handler in process (the application's own cost).
3. Times the screen-pop query (the customer's latest 20 interactions, apps.customers.selectors.
   interaction_timeline) in process, for ordinary customers and for regulars.

Target: lookup p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import importlib.util
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the suite's own helpers (apps.core.database)
PYTHON = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
CHUNK_ROWS = 200_000
LOOKUP = "/api/v1/customers/lookup/"
BENCH_APPS = ("customers", "authtoken", "auditlog", "audit", "guardian", "sessions")
LIST = "/api/v1/customers/"
HEAVY_CUSTOMERS = 10_000  # a fifth of all interactions belong to these (the regulars)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建林峰晨宇浩然子轩欣怡梓涵"
FIRST = ["Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan"]
LAST = ["Smith", "Johnson", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Moore"]
CHANNELS = ["call", "call", "call", "chat", "email", "ticket", "note", "sms", "wechat"]
SUMMARIES = [
    "Asked about an order",
    "Delivery delayed",
    "Invoice question",
    "Password reset",
    "Complaint about service",
    "Follow-up call",
    "Refund requested",
    "New contract",
]


# --------------------------------------------------------------------------- data identities
def cn_mobile(index: int) -> str:
    """The E.164 mobile number of customer `index` (unique, valid: 13x xxxx xxxx)."""
    return f"+8613{index:09d}"


def us_number(index: int) -> str:
    return f"+1415{2_000_000 + index:07d}"


def landline(index: int) -> str:
    return f"+8610{60_000_000 + index:08d}"


def phone_of(index: int) -> str:
    return us_number(index) if index % 5 == 0 else cn_mobile(index)


def dialled_form(index: int, rng: random.Random) -> str:
    """How a CRM might send the number: national, spaced, 0086, or E.164."""
    if index % 5 == 0:
        digits = us_number(index)[2:]
        return rng.choice([f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}", f"001{digits}"])
    national = cn_mobile(index)[3:]
    return rng.choice(
        [
            national,
            f"+86 {national[:3]} {national[3:7]} {national[7:]}",
            f"0086{national}",
            f"86{national}",
            cn_mobile(index),
        ]
    )


# --------------------------------------------------------------------------- database build
def bench_env(database: str, *, pool: bool) -> dict[str, str]:
    """Environment of the production profile pointed at the bench database (loopback only)."""
    key = base64.urlsafe_b64encode(b"bench-only-field-key-32-bytes!!!").decode()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings.prod",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEY": key,
        # PostgreSQL trusts loopback here; the password only satisfies the production checks.
        "DATABASE_URL": f"postgres://postgres:bench-only-{secrets.token_hex(8)}@127.0.0.1:5432/"
        f"{database}" + ("?pool=true" if pool else ""),
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "CACHE_KEY_PREFIX": "cc-bench",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FREESWITCH_XML_PASSWORD": secrets.token_urlsafe(16),
        "FREESWITCH_NODES": "[]",
        "SECURE_SSL_REDIRECT": "false",
        "API_RATE_PER_CLIENT": "100000000/min",
        "LOG_LEVEL": "WARNING",
        # Under ASGI every request runs in a thread of its own, so a persistent connection
        # (CONN_MAX_AGE > 0) is never reused and leaks until the server runs out of connections;
        # Django's advice for ASGI is CONN_MAX_AGE=0, with its psycopg pool (?pool=true).
        "DB_CONN_MAX_AGE": "0",
    }


def ensure_database(database: str) -> None:
    from apps.core.database import database_create_if_missing

    server = {"HOST": "127.0.0.1", "PORT": 5432, "USER": "postgres"}  # as PG says
    if database_create_if_missing({**server, "NAME": database}):
        print(f"created database {database}")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def role_apps() -> set[str]:
    """The app labels of every permission a role holds (read from apps/rbac/roles.py)."""
    spec = importlib.util.spec_from_file_location(
        "bench_roles", ROOT / "apps" / "rbac" / "roles.py"
    )
    assert spec is not None
    assert spec.loader is not None
    roles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    return {perm.split(".")[0] for perms in roles.ROLE_PERMISSIONS.values() for perm in perms}


def counts(database: str) -> tuple[int, int]:
    with psycopg.connect(f"{PG}/{database}") as conn:
        customers = conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
        interactions = conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'customers_interaction'"
        ).fetchone()[0]
    return customers, interactions


def _secondary_objects(conn: psycopg.Connection, table: str) -> tuple[list[str], list[str]]:
    """Return (drop statements, create statements) for a table's non-primary indexes and FKs."""
    drops, creates = [], []
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')",
        [table],
    ):
        drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        creates.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    ):
        drops.append(f'DROP INDEX "{name}"')
        creates.append(definition)
    return drops, creates


def _copy(conn: psycopg.Connection, sql: str, rows: Any) -> int:
    written = 0
    with conn.cursor() as cursor, cursor.copy(sql) as copy:
        batch: list[str] = []
        for line in rows:
            batch.append(line)
            if len(batch) >= CHUNK_ROWS:
                copy.write("".join(batch))
                written += len(batch)
                batch.clear()
        if batch:
            copy.write("".join(batch))
            written += len(batch)
    return written


def _customer_rows(total: int, now: str):  # type: ignore[no-untyped-def]
    rng = random.Random(1)
    tiers = ["standard"] * 85 + ["silver"] * 8 + ["gold"] * 5 + ["vip"] * 2
    for index in range(1, total + 1):
        if index % 5 == 0:
            name, language, tz = f"{rng.choice(FIRST)} {rng.choice(LAST)}", "en", "America/New_York"
        else:
            name = (
                rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if index % 2 else "")
            )
            language, tz = "zh-hans", "Asia/Shanghai"
        yield (
            f"{index}\t{now}\t{now}\t{name}\t\t{rng.choice(tiers)}\t{language}\t{tz}\t{{}}\t"
            f"t\t{'t' if index % 3 == 0 else 'f'}\t\t\t\t\t\\N\t\\N\n"
        )


def _identity_rows(total: int, now: str):  # type: ignore[no-untyped-def]
    identity = 0
    for index in range(1, total + 1):
        identity += 1
        yield f"{identity}\tphone\t{phone_of(index)}\tmobile\tt\t{now}\t{index}\n"
        if index % 10 < 3:
            identity += 1
            yield f"{identity}\tphone\t{landline(index)}\toffice\tf\t{now}\t{index}\n"
        if index % 10 < 4:
            identity += 1
            yield f"{identity}\temail\tc{index}@example.com\t\tt\t{now}\t{index}\n"


def _interaction_rows(total: int, customers: int, now: dt.datetime):  # type: ignore[no-untyped-def]
    rng = random.Random(2)
    span = 730 * 86400
    heavy = min(HEAVY_CUSTOMERS, customers)
    base = now.timestamp()
    created = now.isoformat()
    for index in range(1, total + 1):
        customer = rng.randint(1, heavy) if index % 5 == 0 else rng.randint(1, customers)
        channel = rng.choice(CHANNELS)
        occurred = dt.datetime.fromtimestamp(base - rng.random() * span, dt.UTC).isoformat()
        direction = "outbound" if index % 4 == 0 else "inbound"
        if channel == "call":
            call_uuid = f"bench-{index:010d}"
            refs = f'{{"call_uuid": "{call_uuid}", "answered": true}}'
        else:
            call_uuid, refs = "", "{}"
        yield (
            f"{index}\t{channel}\t{direction}\t{occurred}\t{rng.choice(SUMMARIES)}\t"
            f"{call_uuid}\t{refs}\t{created}\t\\N\t{customer}\n"
        )


def build(database: str, customers: int, interactions: int) -> None:
    """Load the volumes with COPY; indexes and foreign keys are rebuilt afterwards."""
    tables = ["customers_customer", "customers_customeridentity", "customers_interaction"]
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE")
        drops, creates = [], []
        # Children first: their foreign keys point at customers_customer.
        for table in reversed(tables):
            table_drops, table_creates = _secondary_objects(conn, table)
            drops += table_drops
            creates = table_creates + creates
        for statement in drops:
            conn.execute(statement)
        started = time.perf_counter()
        written = _copy(
            conn,
            "COPY customers_customer (id, created_at, updated_at, name, company, vip_tier, "
            "language, timezone, tags, consent_recording, consent_marketing, national_id, "
            "bank_card, notes, external_id, merged_at, merged_into_id) FROM STDIN",
            _customer_rows(customers, now.isoformat()),
        )
        print(f"  customers      {written:>10,} rows  {time.perf_counter() - started:6.1f} s")
        started = time.perf_counter()
        identities = _copy(
            conn,
            "COPY customers_customeridentity (id, kind, value, label, is_primary, created_at, "
            "customer_id) FROM STDIN",
            _identity_rows(customers, now.isoformat()),
        )
        print(f"  identities     {identities:>10,} rows  {time.perf_counter() - started:6.1f} s")
        started = time.perf_counter()
        written = _copy(
            conn,
            "COPY customers_interaction (id, channel, direction, occurred_at, summary, call_uuid, "
            "refs, created_at, agent_id, customer_id) FROM STDIN",
            _interaction_rows(interactions, customers, now),
        )
        print(f"  interactions   {written:>10,} rows  {time.perf_counter() - started:6.1f} s")
        started = time.perf_counter()
        for statement in creates:
            conn.execute(statement)
        print(f"  indexes and foreign keys rebuilt   {time.perf_counter() - started:6.1f} s")
        for table, last in (
            ("customers_customer", customers),
            ("customers_customeridentity", identities),
            ("customers_interaction", interactions),
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [max(last, 1)]
            )
        started = time.perf_counter()
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")
        print(f"  vacuum analyze                     {time.perf_counter() - started:6.1f} s")


# --------------------------------------------------------------------------- measurements
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def client(
    args: tuple[int, str, str, int, int, int],
) -> tuple[list[float], dict[int, int], float, float]:
    """Run lookups on one keep-alive connection; return latencies (s), status counts, the loop's
    duration and the CPU time the client itself used (process start-up excluded)."""
    import urllib3

    port, token, path, requests, customers, seed = args
    rng = random.Random(seed)
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop_started = time.perf_counter()
    cpu_started = time.process_time()
    for _ in range(requests):
        if rng.random() < 0.05:
            phone = f"+86139{rng.randrange(10**8):08d}"  # nobody has a 139 number here
        else:
            phone = dialled_form(rng.randint(1, customers), rng)
        started = time.perf_counter()
        response = pool.request("GET", path, fields={"phone": phone}, headers=headers)
        latencies.append(time.perf_counter() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    return (
        latencies,
        statuses,
        time.perf_counter() - loop_started,
        time.process_time() - cpu_started,
    )


def run_clients(
    port: int, token: str, *, path: str, clients: int, requests: int, customers: int, seed: int
) -> tuple[list[float], dict[int, int], float, float]:
    context = multiprocessing.get_context("spawn")
    jobs = [(port, token, path, requests, customers, seed + n) for n in range(clients)]
    with context.Pool(clients) as pool:
        results = pool.map(client, jobs)
    # The clients run side by side: throughput is all requests over the longest client's loop.
    elapsed = max(duration for _, _, duration, _ in results)
    latencies = [value for values, _, _, _ in results for value in values]
    statuses: dict[int, int] = {}
    for _, counted, _, _ in results:
        for status, count in counted.items():
            statuses[status] = statuses.get(status, 0) + count
    return latencies, statuses, elapsed, sum(cpu for _, _, _, cpu in results)


def _processes() -> dict[int, tuple[int, float, str]]:
    """Every process: pid -> (parent pid, CPU seconds used so far, command line)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, ..., utime (11), stime (12)
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks, command)
    return found


def cpu_used(server_pid: int, database: str) -> tuple[float, float]:
    """CPU seconds used so far by the uvicorn processes and the bench database's backends."""
    processes = _processes()
    tree = {server_pid}
    while True:
        children = {pid for pid, (parent, _, _) in processes.items() if parent in tree} - tree
        if not children:
            break
        tree |= children
    server = sum(processes[pid][1] for pid in tree if pid in processes)
    postgres = sum(
        cpu
        for _, cpu, command in processes.values()
        if command.startswith("postgres: ") and f" {database} " in command
    )
    return server, postgres


def report_cpu(
    before: tuple[float, float], after: tuple[float, float], client_cpu: float, requests: int
) -> None:
    """Where the two cores went, per request: what the server costs, apart from the load."""
    server, postgres = (
        1000 * (end - start) / requests for start, end in zip(before, after, strict=True)
    )
    print(
        f"  CPU ms per request  uvicorn workers {server:.2f}  PostgreSQL {postgres:.2f}  "
        f"clients {1000 * client_cpu / requests:.2f}"
    )


def report(title: str, latencies: list[float], statuses: dict[int, int], elapsed: float) -> None:
    ms = [value * 1000 for value in latencies]
    print(
        f"{title}\n"
        f"  requests {len(ms):,}  statuses {dict(sorted(statuses.items()))}\n"
        f"  throughput {len(ms) / elapsed:,.0f} req/s\n"
        f"  latency ms  p50 {statistics.median(ms):.2f}  p95 {percentile(ms, 0.95):.2f}  "
        f"p99 {percentile(ms, 0.99):.2f}  max {max(ms):.2f}"
    )


def start_server(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    """Start uvicorn; its output (404 warnings of the unknown numbers) goes to a log file."""
    with log.open("w") as output:
        return subprocess.Popen(
            [
                PYTHON,
                "-m",
                "uvicorn",
                "callcenter.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
                "--http",
                "httptools",
                "--loop",
                "uvloop",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(
    server: subprocess.Popen, port: int, token: str, log: Path, timeout: float = 90
) -> None:
    import urllib3

    deadline = time.monotonic() + timeout
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=False)
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}, see {log}")
        try:
            response = pool.request(
                "GET",
                "/api/v1/customers/",
                fields={"phone": "x"},
                headers={"Authorization": f"Token {token}"},
            )
            if response.status == 200:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"uvicorn did not answer in time, see {log}")


def in_process_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def crm_token() -> str:
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.accounts.services import service_account_create

    user = User.objects.filter(username="bench-crm").first()
    if user is None:
        return service_account_create(name="bench-crm")[1]
    return Token.objects.get(user=user).key


def inprocess_lookup(token: str, requests: int, customers: int) -> None:
    """The same lookups through Django's WSGI handler in this process (test client, no HTTP,
    same database settings): the application's own cost, without the server."""
    from django.test import Client

    rng = random.Random(5)
    browser = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    statuses: dict[int, int] = {}
    latencies = []
    cpu_started = 0.0
    for attempt in range(requests + 200):
        if attempt == 200:
            cpu_started = time.process_time()
        phone = dialled_form(rng.randint(1, customers), rng)
        started = time.perf_counter()
        response = browser.get(LOOKUP, {"phone": phone})
        if attempt >= 200:  # the first ones warm the connection and the caches
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    cpu_ms = (time.process_time() - cpu_started) * 1000 / requests
    report(
        "GET /api/v1/customers/lookup/?phone=, in process (Django test client, WSGI handler):",
        latencies,
        statuses,
        sum(latencies),
    )
    # CPU time is what a request costs this process; it moves less than wall time when other
    # work competes for the two cores.
    print(f"  CPU time of the Django process per request: {cpu_ms:.2f} ms")


def timeline_bench(customers: int, samples: int) -> None:
    from django.db import connection

    from apps.customers.selectors import interaction_timeline

    rng = random.Random(3)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT * FROM customers_interaction WHERE customer_id = 42 "
            "ORDER BY occurred_at DESC, id DESC LIMIT 20"
        )
        plan = " / ".join(row[0].strip() for row in cursor.fetchall()[:2])
    for label, pick in (
        (
            "ordinary customers (~4 interactions)",
            lambda: rng.randint(HEAVY_CUSTOMERS + 1, customers),
        ),
        ("regulars (~100 interactions)", lambda: rng.randint(1, min(HEAVY_CUSTOMERS, customers))),
    ):
        for _ in range(200):  # warm the connection and the cache like a running server
            interaction_timeline(customer_id=pick(), limit=20)
        times, sizes = [], []
        for _ in range(samples):
            customer_id = pick()
            started = time.perf_counter()
            rows = interaction_timeline(customer_id=customer_id, limit=20)
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(len(rows))
        print(
            f"screen-pop timeline, {label}: {samples:,} queries (ORM, latest 20, "
            f"avg {statistics.mean(sizes):.1f} rows)\n"
            f"  latency ms  p50 {statistics.median(times):.2f}  p99 {percentile(times, 0.99):.2f}"
            f"  max {max(times):.2f}"
        )
    print(f"  plan: {plan}")


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="cc_bench")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--rebuild", action="store_true", help="reload even if the data is there")
    parser.add_argument("--requests", type=int, default=2000, help="sequential lookups")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--client-requests", type=int, default=1000)
    parser.add_argument(
        "--no-pool",
        action="store_true",
        help="a new database connection per request instead of Django's psycopg pool",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--port", type=int, default=0, help="default: a free loopback port")
    parser.add_argument("--timeline-samples", type=int, default=3000)
    options = parser.parse_args()
    if options.database in ("callcenter", "postgres"):
        parser.error("use a dedicated bench database")
    return options


def prepare(options: argparse.Namespace, env: dict[str, str]) -> None:
    """Create, migrate and (when the volumes differ) load the bench database."""
    ensure_database(options.database)
    print("migrating the bench database ...")
    # Only what the lookup touches, so other apps' migrations in flux cannot stop the bench; and
    # the apps whose permissions the roles grant, which exist only once their app is migrated.
    for app in sorted(set(BENCH_APPS) | role_apps()):
        manage(env, "migrate", app, "--noinput", "-v", "0")
    manage(env, "setup_roles", "-v", "0")
    have_customers, have_interactions = counts(options.database)
    if (
        options.rebuild
        or have_customers != options.customers
        or abs(have_interactions - options.interactions) > options.interactions * 0.01
    ):
        print(
            f"loading {options.customers:,} customers and {options.interactions:,} "
            "interactions with COPY ..."
        )
        started = time.perf_counter()
        build(options.database, options.customers, options.interactions)
        print(f"  data build total {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {have_customers:,} customers and ~{have_interactions:,} interactions")


def warm_caches(database: str) -> None:
    """Read the tables and indexes the lookups touch into the OS page cache once, as a running
    server's steady state (the 1.2 GB fit in memory; PostgreSQL's own buffers are 128 MB)."""
    relations = [
        "customers_customer",
        "customers_customer_pkey",
        "customers_customeridentity",
        "customers_identity_unique",
        "customers_customeridentity_customer_id_09279f54",
        "customers_interaction",
        "customers_timeline_idx",
    ]
    started = time.perf_counter()
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in relations:
            if conn.execute("SELECT to_regclass(%s)", [relation]).fetchone()[0]:
                conn.execute("SELECT pg_prewarm(%s, 'read')", [relation])
    print(f"tables and indexes read into the page cache in {time.perf_counter() - started:.1f} s")


def measure_http(options: argparse.Namespace, env: dict[str, str], token: str, pool: bool) -> None:
    """Look customers up through a real uvicorn: one client, then concurrent clients."""
    port = options.port or free_port()
    print(
        f"\nuvicorn on 127.0.0.1:{port}, {options.workers} workers, settings prod "
        f"(real HTTP on loopback, clients in separate processes, {os.cpu_count()} cores), "
        + ("Django's psycopg pool" if pool else "a new database connection per request")
    )
    # Clients, server and PostgreSQL share the cores. One client measures a request's latency;
    # more clients than workers keep every worker busy and queue the rest, so that run measures
    # throughput, and its latency is mostly waiting (about clients / throughput).
    print(
        f"configuration: 1 client, then {options.clients} concurrent client processes, against "
        f"{options.workers} uvicorn worker processes; all on {os.cpu_count()} cores"
    )
    log = Path(tempfile.gettempdir()) / f"customer_lookup_uvicorn_{port}.log"
    server = start_server(env, port, options.workers, log)
    try:
        wait_ready(server, port, token, log)
        common = {"customers": options.customers}
        for path in (LOOKUP, LIST):  # warm every worker's connections and caches
            run_clients(
                port,
                token,
                path=path,
                clients=max(options.workers, 1),
                requests=200,
                seed=99,
                **common,
            )
        for path, title in (
            (LOOKUP, "GET /api/v1/customers/lookup/?phone="),
            (LIST, "GET /api/v1/customers/?phone= (list filter)"),
        ):
            before = cpu_used(server.pid, options.database)
            latencies, statuses, elapsed, client_cpu = run_clients(
                port, token, path=path, clients=1, requests=options.requests, seed=1, **common
            )
            report(f"{title}, 1 client (sequential):", latencies, statuses, elapsed)
            report_cpu(before, cpu_used(server.pid, options.database), client_cpu, len(latencies))
        before = cpu_used(server.pid, options.database)
        latencies, statuses, elapsed, client_cpu = run_clients(
            port,
            token,
            path=LOOKUP,
            clients=options.clients,
            requests=options.client_requests,
            seed=10,
            **common,
        )
        report(
            f"GET /api/v1/customers/lookup/?phone=, {options.clients} concurrent clients:",
            latencies,
            statuses,
            elapsed,
        )
        report_cpu(before, cpu_used(server.pid, options.database), client_cpu, len(latencies))
    finally:
        server.terminate()
        server.wait(timeout=30)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    options = parse_options()
    pool = not options.no_pool and importlib.util.find_spec("psycopg_pool") is not None
    env = bench_env(options.database, pool=pool)
    prepare(options, env)
    in_process_setup(env)
    token = crm_token()
    from django.db import connection

    connection.close()
    warm_caches(options.database)
    # Other work on the machine skews every figure below: say how busy it was.
    print(f"\nload average before measuring: {load_average()}")
    measure_http(options, env, token, pool)
    inprocess_lookup(token, options.requests, options.customers)
    timeline_bench(options.customers, options.timeline_samples)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
