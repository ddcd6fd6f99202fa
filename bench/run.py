"""Courtier at scale: build a synthetic data set on PostgreSQL, then measure every main endpoint.

    DATABASE_URL=postgres://courtier:courtier@127.0.0.1:5432/courtier_bench \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/run.py --providers 5000 --offers 100000 --orders 1000000

    .venv/bin/python bench/run.py --smoke      # 50 providers, 1k offers, 5k orders, 5 s load test (CI)

Steps, all in one run (see bench/README.md):
 1. build the data set (bench/build_dataset.py: COPY and INSERT ... SELECT) unless --reuse;
 2. in-process latency of each endpoint through the whole WSGI stack (django.test.Client, DEBUG off,
    a real token or session), p50/p95/p99 over --iterations requests, SQL queries per request;
 3. the SQL floor: the queries each request ran, replayed with a bare cursor; ratio = p50 / floor p50;
 4. order creation and submission, sequential then with --order-workers processes;
 5. the daily qualification scan (first run, rerun, next day);
 6. a load test of gunicorn (--gunicorn-workers) with wrk on loopback for --load-seconds;
and writes bench/results/<date>-<scale>.md and .json (machine, load average, every figure).

The database must be a scratch one (its name contains "bench"): its application tables are emptied.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The production shape, served over plain HTTP on loopback, without the per-user throttles (they would
# answer 429 to a load test by design) and without e-mail delivery.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "broker.settings",
    "DEBUG": "false",
    "SECURE_HTTPS": "false",
    "STATIC_MANIFEST": "false",
    "API_THROTTLE_USER": "100000000/minute",
    "API_THROTTLE_ANON": "100000000/minute",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "EMAIL_URL": "dummymail://",
}
for _name, _value in BENCH_ENV.items():
    os.environ[_name] = _value if _name != "EMAIL_URL" else os.environ.get(_name, _value)

import gc  # noqa: E402
import logging  # noqa: E402
from importlib import import_module  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("celery").setLevel(logging.WARNING)  # eager tasks (no REDIS_URL) log every e-mail sent

import build_dataset  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SMOKE = build_dataset.Scale(providers=50, offers=1_000, orders=5_000)
# Targets of issue 8 (p95, milliseconds) on the 2-core machine at 100k offers.
TARGET_OFFERS_API = 50
TARGET_CATALOGUE = 100
TARGET_OFFER_PAGE = 50
TARGET_SUBMIT = 100
TARGET_RATIO = 3


@dataclass
class Measure:
    name: str
    url: str
    target_p95_ms: float | None
    p50_ms: float = 0
    p95_ms: float = 0
    p99_ms: float = 0
    queries: int = 0
    floor_p50_ms: float | None = None
    ratio: float | None = None
    status: int = 0
    samples: int = 0
    cold_p50_ms: float | None = None
    cold_p95_ms: float | None = None
    notes: str = ""

    @property
    def meets_target(self) -> bool | None:
        return None if self.target_p95_ms is None else self.p95_ms <= self.target_p95_ms


@dataclass
class Report:
    scale: dict
    machine: dict
    load_before: str
    load_after: str = ""
    build: dict = field(default_factory=dict)
    endpoints: list = field(default_factory=list)
    orders: dict = field(default_factory=dict)
    scan: list = field(default_factory=list)
    load_test: dict = field(default_factory=dict)
    started_at: str = ""
    duration_s: float = 0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def machine() -> dict:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = "?"
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "postgresql": postgres, "kernel": platform.release()}


# --- In-process measurements ---------------------------------------------------------------------------------------

def bench_clients(dataset) -> dict[str, Client]:
    """A buyer with a real API token, and the same buyer with a real session for pages."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    buyer = User.objects.get(username="bench-acheteur")
    token, _created = Token.objects.get_or_create(user=buyer)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    pages = Client()
    pages.force_login(buyer)
    return {"api": api, "pages": pages, "anonymous": Client(), "token": token.key,
            "session": pages.cookies[settings.SESSION_COOKIE_NAME].value}


def floor_of(sql: list[str], *, iterations: int) -> float:
    """The p50, in ms, of replaying the request's SQL statements with a bare cursor (the PostgreSQL floor)."""
    statements = [s for s in sql if not s.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK"))]
    timings = []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for _ in range(iterations):
            started = time.perf_counter()
            for statement in statements:
                raw.execute(statement)
                if raw.description is not None:
                    raw.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def cold_timings(client: Client, url: str, *, samples: int) -> tuple[float, float]:
    """p50 and p95 of the request right after a catalogue write: the catalogue's version token changes
    before each one (catalogue/freshness.py), so no cached count or facet can serve it."""
    from catalogue.freshness import bump_catalogue_version

    timings = []
    for _ in range(samples):
        bump_catalogue_version()
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return round(percentile(timings, 0.50), 1), round(percentile(timings, 0.95), 1)


def measure_get(client: Client, measure: Measure, *, iterations: int, floor: bool = True) -> Measure:
    for _ in range(3):  # warm up: caches, prepared plans, lazy imports
        response = client.get(measure.url)
    measure.status = response.status_code
    if response.status_code != 200:
        measure.notes = f"HTTP {response.status_code}"
        return measure
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        response = client.get(measure.url)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            measure.notes = f"HTTP {response.status_code} during the run"
    with CaptureQueriesContext(connection) as captured:
        client.get(measure.url)
    measure.samples = len(timings)
    measure.p50_ms, measure.p95_ms, measure.p99_ms = (
        round(percentile(timings, f), 1) for f in (0.50, 0.95, 0.99))
    measure.queries = len(captured)
    if floor:
        measure.floor_p50_ms = round(floor_of([q["sql"] for q in captured.captured_queries],
                                              iterations=max(5, iterations // 2)), 2)
        measure.ratio = round(measure.p50_ms / measure.floor_p50_ms, 1) if measure.floor_p50_ms else None
    # Last: each request resets the connection's query log that `captured` reads.
    measure.cold_p50_ms, measure.cold_p95_ms = cold_timings(client, measure.url, samples=min(10, iterations))
    return measure


def endpoints(dataset, *, visible_offers: int) -> list[tuple[str, Measure]]:
    # The deepest pages are read backwards from the end (catalogue/pagination.py): the middle one is the slowest.
    deep_page = max(1, int(visible_offers / 20 * 0.9))
    middle_page = max(1, int(visible_offers / 20 * 0.5))
    offers = "/api/v1/offers/"
    return [
        ("api", Measure("offers API, no filter", offers, TARGET_OFFERS_API)),
        # Not in the list: five times the cards of a default page, reported without a target.
        ("api", Measure("offers API, page_size=100", f"{offers}?page_size=100", None)),
        ("api", Measure("offers API, three facets", f"{offers}?service_model=IaaS&certification=iso27001"
                                                    "&data_location=FR", TARGET_OFFERS_API)),
        ("api", Measure("offers API, keyword", f"{offers}?q=stockage%20securise", TARGET_OFFERS_API)),
        ("api", Measure("offers API, eligible_for=sensitive", f"{offers}?eligible_for=sensitive",
                        TARGET_OFFERS_API)),
        ("api", Measure(f"offers API, deep page ({deep_page})", f"{offers}?page={deep_page}", TARGET_OFFERS_API)),
        # Not in the list either: the qualified offers by end of qualification (a join on the decisions).
        ("api", Measure("offers API, sorted by expiry", f"{offers}?ordering=valid_until&qualification=qualified",
                        None)),
        ("api", Measure(f"offers API, middle page ({middle_page})", f"{offers}?page={middle_page}",
                        TARGET_OFFERS_API)),
        ("pages", Measure("catalogue page with facet counts", "/catalogue/", TARGET_CATALOGUE)),
        ("pages", Measure("catalogue page, two facets", "/catalogue/?service_model=SaaS&eligible_for=sensitive",
                          TARGET_CATALOGUE)),
        ("anonymous", Measure("catalogue page, keyword (anonymous)", "/catalogue/?q=kubernetes", TARGET_CATALOGUE)),
        ("pages", Measure("offer page", f"/catalogue/{dataset.bench_offer_slug}/", TARGET_OFFER_PAGE)),
        ("api", Measure("offer API, one offer", f"{offers}{dataset.bench_offer_slug}/", TARGET_OFFERS_API)),
        ("api", Measure(f"orders API, buyer with {dataset.bench_orders:,} orders", "/api/v1/orders/", None)),
        ("api", Measure("orders API, buyer, status=approved", "/api/v1/orders/?status=approved", None)),
        ("pages", Measure("orders page, buyer", "/commandes/", None)),
        ("api", Measure("frameworks API", "/api/v1/frameworks/", None)),
        ("pages", Measure("provider page", "/fournisseurs/fournisseur-00000/", None)),
    ]


def order_payload(dataset) -> dict:
    return {"framework": dataset.framework_slug, "lot": dataset.lot_id, "offer": dataset.bench_offer_slug,
            "quantity": 1, "sensitivity": "sensitive", "starts_on": dataset.today.isoformat(),
            "ends_on": (dataset.today + timedelta(days=365)).isoformat(),
            "justification": "Hébergement d'une application métier (bench)."}


def create_and_submit(client: Client, payload: dict, *, count: int) -> dict:
    """`count` orders drafted then submitted through the API; latencies of each step, errors."""
    creates, submits, errors = [], [], 0
    for _ in range(count):
        started = time.perf_counter()
        response = client.post("/api/v1/orders/", payload, content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        creates.append((time.perf_counter() - started) * 1000)
        if response.status_code != 201:
            errors += 1
            continue
        reference = response.json()["reference"]
        started = time.perf_counter()
        response = client.post(f"/api/v1/orders/{reference}/submit/", content_type="application/json")
        submits.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            errors += 1
    return {"creates": creates, "submits": submits, "errors": errors}


def _worker(args) -> dict:
    token, payload, count = args
    connections.close_all()
    started = time.perf_counter()
    result = create_and_submit(Client(HTTP_AUTHORIZATION=f"Token {token}"), payload, count=count)
    result["seconds"] = time.perf_counter() - started
    connections.close_all()
    return result


def summarise(result: dict, seconds: float) -> dict:
    pairs = len(result["submits"])

    def stats(values):
        if not values:
            return {}
        return {"p50_ms": round(percentile(values, 0.5), 1), "p95_ms": round(percentile(values, 0.95), 1),
                "p99_ms": round(percentile(values, 0.99), 1)}

    return {"orders": pairs, "seconds": round(seconds, 2), "orders_per_s": round(pairs / seconds, 1) if seconds else 0,
            "create": stats(result["creates"]), "submit": stats(result["submits"]), "errors": result["errors"]}


def measure_orders(clients, dataset, *, count: int, workers: int) -> dict:
    payload = order_payload(dataset)
    client = clients["api"]
    create_and_submit(client, payload, count=3)  # warm up
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/orders/", payload, content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    create_queries = len(captured)
    with CaptureQueriesContext(connection) as captured:
        client.post(f"/api/v1/orders/{response.json()['reference']}/submit/", content_type="application/json")
    submit_queries = len(captured)

    started = time.perf_counter()
    sequential = summarise(create_and_submit(client, payload, count=count), time.perf_counter() - started)
    connections.close_all()
    per_worker = max(1, count // workers)
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(workers) as pool:
        results = pool.map(_worker, [(clients["token"], payload, per_worker)] * workers)
    elapsed = time.perf_counter() - started
    merged = {"creates": [v for r in results for v in r["creates"]],
              "submits": [v for r in results for v in r["submits"]],
              "errors": sum(r["errors"] for r in results)}
    concurrent = summarise(merged, elapsed)
    concurrent["workers"] = workers
    return {"create_queries": create_queries, "submit_queries": submit_queries, "sequential": sequential,
            "concurrent": concurrent, "target_submit_p95_ms": TARGET_SUBMIT}


def measure_scan(dataset) -> list[dict]:
    from catalogue import lifecycle

    rows = []
    for label, day in (("first scan", dataset.today), ("same day again", dataset.today),
                       ("next day", dataset.today + timedelta(days=1))):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            report = lifecycle.scan_qualifications(today=day)
            elapsed = time.perf_counter() - started
        rows.append({"scan": label, "seconds": round(elapsed, 2), "queries": len(captured),
                     "expired": len(report.expired), "alerts": report.alerts_raised,
                     "notifications": report.notifications, "orders_flagged": report.orders_flagged})
    if settings.REDIS_URL:
        from broker.celery import app as celery_app

        celery_app.control.purge()
    return rows


# --- Load test -----------------------------------------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {%(paths)s}
local auth = {%(auth)s}
local token = "%(token)s"
local cookie = "%(cookie)s"
local i = 0
request = function()
  i = i %% #paths + 1
  local headers = {}
  if auth[i] == "api" then headers["Authorization"] = "Token " .. token end
  if auth[i] == "pages" then headers["Cookie"] = "%(cookie_name)s=" .. cookie end
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"max_us": %%d}\\n', summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(port: int, *, path: str, timeout: float = 120) -> None:
    """Wait until gunicorn answers (its workers import Django first, slowly on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                if response.status < 500:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def load_test(clients, measures: list[tuple[str, Measure]], *, seconds: int, workers: int,
              connections_count: int) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install -y wrk)"}
    chosen = [(kind, m.url) for kind, m in measures if m.status == 200]
    port = free_port()
    env = {**os.environ, **BENCH_ENV, "CONN_MAX_AGE": "600"}
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "broker.wsgi", "--workers", str(workers),
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--access-logfile", "-"]
    with tempfile.TemporaryDirectory() as tmp:
        access_log = open(Path(tmp) / "access.log", "w")  # noqa: SIM115 (closed below)
        server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=access_log, stderr=subprocess.PIPE,
                                  start_new_session=True)
        try:
            wait_until_serving(port, path=chosen[0][1] if chosen else "/")
            script = Path(tmp) / "rotate.lua"
            script.write_text(WRK_SCRIPT % {
                "paths": ", ".join(json.dumps(url) for _kind, url in chosen),
                "auth": ", ".join(json.dumps(kind) for kind, _url in chosen),
                "token": clients["token"], "cookie": clients["session"],
                "cookie_name": settings.SESSION_COOKIE_NAME,
            })
            # Warm every worker (imports, connections) before the clock starts.
            subprocess.run([wrk, "-t1", f"-c{workers * 2}", "-d5s", "-s", str(script), f"http://127.0.0.1:{port}"],
                           capture_output=True, text=True, check=False)
            output = subprocess.run(
                [wrk, "-t2", f"-c{connections_count}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                 f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=False).stdout
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            access_log.close()
        statuses: dict[str, int] = {}
        for line in (Path(tmp) / "access.log").read_text().splitlines():
            parts = line.split('"')
            if len(parts) >= 3 and parts[2].split():
                code = parts[2].split()[0]
                statuses[code] = statuses.get(code, 0) + 1
    line = next((line for line in output.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        return {"error": output[-2000:]}
    raw = json.loads(line[len("WRKJSON "):])
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {"seconds": seconds, "gunicorn_workers": workers, "connections": connections_count,
            "urls": len(chosen), "requests": raw["requests"],
            "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": round(raw["p50_us"] / 1000, 1), "p95_ms": round(raw["p95_us"] / 1000, 1),
            "p99_ms": round(raw["p99_us"] / 1000, 1), "max_ms": round(raw["max_us"] / 1000, 1),
            "errors": errors, "non_2xx": raw["status"], "socket_errors": errors - raw["status"],
            "status_codes": statuses}


# --- Report --------------------------------------------------------------------------------------------------------

def markdown(report: Report) -> str:
    scale = report.scale
    lines = [
        f"# Courtier bench, {report.started_at}",
        "",
        f"Scale: {scale['providers']:,} providers, {scale['offers']:,} offers, {scale['orders']:,} orders "
        f"(bench buyer's organisation: {report.build.get('counts', {}).get('bench organisation orders', 0):,} orders).",
        "",
        "Machine: {cpu}, {cores} cores, {memory}, Linux {kernel}, Python {python}, PostgreSQL {postgresql}."
        .format(**report.machine),
        f"Load average (1, 5, 15 min) before: {report.load_before}; after: {report.load_after}. "
        f"Whole run: {report.duration_s:.0f} s.",
        "",
        "## Endpoints (in-process through the WSGI stack, DEBUG off)",
        "",
        "Warm: the same request repeated (cached counts and facets serve it while the catalogue is unchanged). "
        "Cold: right after a catalogue write (the cache's version token changed before each request).",
        "",
        "| endpoint | p50 ms | p95 ms | p99 ms | target p95 | queries | SQL floor p50 ms | ratio | cold p50 / p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in report.endpoints:
        target = "" if m["target_p95_ms"] is None else (
            f"≤ {m['target_p95_ms']:g} {'✔' if m['p95_ms'] <= m['target_p95_ms'] else '✘'}")
        floor = "" if m["floor_p50_ms"] is None else f"{m['floor_p50_ms']:.2f}"
        ratio = "" if m["ratio"] is None else f"{m['ratio']:.1f}"
        note = f" ({m['notes']})" if m["notes"] else ""
        cold = "" if m.get("cold_p50_ms") is None else f"{m['cold_p50_ms']:.1f} / {m['cold_p95_ms']:.1f}"
        lines.append(f"| {m['name']}{note} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m['p99_ms']:.1f} | {target} | "
                     f"{m['queries']} | {floor} | {ratio} | {cold} |")
    orders = report.orders
    if orders:
        lines += ["", "## Orders (API: create a draft, then submit it)", "",
                  f"Queries: create {orders['create_queries']}, submit {orders['submit_queries']}.", "",
                  "| run | orders | orders/s | create p50 / p95 ms | submit p50 / p95 / p99 ms | errors |",
                  "|---|---:|---:|---:|---:|---:|"]
        for label, key in (("sequential", "sequential"),
                           (f"concurrent, {orders['concurrent'].get('workers')} processes", "concurrent")):
            run = orders[key]
            create, submit = run.get("create", {}), run.get("submit", {})
            lines.append(f"| {label} | {run['orders']} | {run['orders_per_s']} | {create.get('p50_ms')} / "
                         f"{create.get('p95_ms')} | {submit.get('p50_ms')} / {submit.get('p95_ms')} / "
                         f"{submit.get('p99_ms')} | {run['errors']} |")
    if report.scan:
        lines += ["", "## Daily qualification scan", "",
                  "| scan | time s | queries | expired | alerts | notifications | orders flagged |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['scan']} | {r['seconds']} | {r['queries']} | {r['expired']} | {r['alerts']} | "
                  f"{r['notifications']} | {r['orders_flagged']} |" for r in report.scan]
    load = report.load_test
    if load:
        lines += ["", "## Load test (gunicorn + wrk on loopback)", ""]
        if "requests" in load:
            lines += [f"{load['seconds']} s, {load['gunicorn_workers']} gunicorn sync workers, "
                      f"{load['connections']} connections rotating over {load['urls']} URLs (those above).", "",
                      "| requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors (non-2xx + socket) "
                      "| status codes |",
                      "|---:|---:|---:|---:|---:|---:|---:|---|",
                      f"| {load['requests']} | {load['requests_per_s']} | {load['p50_ms']} | {load['p95_ms']} | "
                      f"{load['p99_ms']} | {load['max_ms']} | {load['errors']} ({load['non_2xx']} + "
                      f"{load['socket_errors']}) | {load['status_codes']} |"]
        else:
            lines.append(f"Not run: {load}")
    if report.build.get("reused"):
        return "\n".join([*lines, "", "Data set reused (built by an earlier run).", ""])
    lines += ["", "## Build", "", "| step | rows | seconds |", "|---|---:|---:|"]
    counts = report.build.get("counts", {})
    for step, seconds in report.build.get("seconds", {}).items():
        lines.append(f"| {step} | {counts.get(step, '')} | {seconds} |")
    lines.append(f"| total | | {report.build.get('total_s', '')} |")
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", type=int, default=5_000)
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--smoke", action="store_true", help="tiny scale and short runs, for CI (< 2 min)")
    parser.add_argument("--reuse", action="store_true", help="measure the data set already in the database")
    parser.add_argument("--iterations", type=int, default=100, help="requests per endpoint (default 100)")
    parser.add_argument("--orders-count", type=int, default=200, help="orders created and submitted per run")
    parser.add_argument("--order-workers", type=int, default=4)
    parser.add_argument("--load-seconds", type=int, default=30)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8: two per worker)")
    parser.add_argument("--build-only", action="store_true", help="build the data set, measure nothing")
    parser.add_argument("--skip", action="append", default=[], choices=["orders", "scan", "load"])
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--tag", default="", help="suffix of the result files' names")
    args = parser.parse_args()
    if args.smoke:
        args.providers, args.offers, args.orders = SMOKE.providers, SMOKE.offers, SMOKE.orders
        args.iterations, args.orders_count, args.load_seconds = 10, 20, 5
    return args


def main() -> None:
    args = parse_args()
    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Point DATABASE_URL at a scratch PostgreSQL database whose name contains 'bench' (now {name!r}): "
                 "its application tables are emptied.")
    started = time.perf_counter()
    scale = build_dataset.Scale(providers=args.providers, offers=args.offers, orders=args.orders, seed=args.seed)
    report = Report(scale=asdict(scale), machine=machine(), load_before=load_average(),
                    started_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(f"Courtier bench on {name}: {scale}; load average {report.load_before}", flush=True)
    call_command("migrate", verbosity=0)
    if args.reuse:
        dataset = build_dataset.existing(scale)
        report.build = {"counts": dataset.counts, "reused": True}
    else:
        print("Building the data set...", flush=True)
        build_started = time.perf_counter()
        dataset = build_dataset.build(scale)
        report.build = {"counts": dataset.counts, "seconds": dataset.seconds,
                        "total_s": round(time.perf_counter() - build_started, 1)}
        print(f"  built in {report.build['total_s']} s", flush=True)
        if args.build_only:
            return

    from django.contrib.auth.models import User

    from catalogue import selectors

    buyer = User.objects.get(username="bench-acheteur")
    visible = selectors.offers_visible(user=buyer).count()
    clients = bench_clients(dataset)
    measures = endpoints(dataset, visible_offers=visible)
    # Measure a process shaped like a served worker: the project loaded, then frozen (gunicorn.conf.py),
    # not one still holding the data set builder's objects.
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
    print(f"\nEndpoints ({args.iterations} requests each):", flush=True)
    for kind, measure in measures:
        measure_get(clients[kind], measure, iterations=args.iterations)
        print(f"  {measure.name:<48} p50 {measure.p50_ms:7.1f}  p95 {measure.p95_ms:7.1f}  "
              f"p99 {measure.p99_ms:7.1f} ms  {measure.queries:3d} queries  floor {measure.floor_p50_ms} ms  "
              f"ratio {measure.ratio}  cold p50 {measure.cold_p50_ms} p95 {measure.cold_p95_ms}  {measure.notes}",
              flush=True)
    report.endpoints = [{**asdict(m), "target_p95_ms": m.target_p95_ms} for _kind, m in measures]

    if "orders" not in args.skip:
        print("\nOrders...", flush=True)
        report.orders = measure_orders(clients, dataset, count=args.orders_count, workers=args.order_workers)
        print(json.dumps(report.orders, indent=1), flush=True)
    if "scan" not in args.skip:
        print("\nDaily scan...", flush=True)
        report.scan = measure_scan(dataset)
        for row in report.scan:
            print(f"  {row}", flush=True)
    if "load" not in args.skip:
        print(f"\nLoad test ({args.load_seconds} s)...", flush=True)
        report.load_test = load_test(clients, measures, seconds=args.load_seconds, workers=args.gunicorn_workers,
                                     connections_count=args.connections)
        print(f"  {report.load_test}", flush=True)

    report.load_after = load_average()
    report.duration_s = round(time.perf_counter() - started, 1)
    args.output.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y-%m-%d')}-{'smoke' if args.smoke else f'{scale.offers // 1000}k'}{args.tag}"
    (args.output / f"{stem}.json").write_text(json.dumps(asdict(report), indent=1, default=str))
    (args.output / f"{stem}.md").write_text(markdown(report))
    print(f"\nDone in {report.duration_s:.0f} s: {args.output / stem}.md and .json", flush=True)
    failures = [m.name for _k, m in measures if m.status != 200]
    if report.load_test.get("requests") == 0:
        report.load_test["errors"] = report.load_test.get("errors") or "no request answered"
    if failures or report.orders.get("sequential", {}).get("errors") or report.load_test.get("errors"):
        sys.exit(f"Errors: {failures or ''} {report.orders.get('sequential', {}).get('errors', '')} "
                 f"{report.load_test.get('errors', '')}")


if __name__ == "__main__":
    main()
