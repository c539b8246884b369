"""Benchmark of the sync: what it costs in Bitrix24 requests, 1С requests, time and memory, against the physical limit.

``python -m bench.sync --size medium`` (``make bench``) measures, against both emulators running in processes of
their own (so the memory figures are ours alone) with the portal's real limits switched on (leaky bucket 2 req/s,
burst 50 — and our Redis limiter set to the same rate):

1. a full **initial sync** of a fresh portal (provisioned as ``tests/conftest.provision_portal`` + the installer's
   ``portal_setup``), kind by kind (counterparties → products → orders, as ``sync_run_execute`` orders them);
2. a **no-change re-sync** (expected: no Bitrix24 write, ≤ 1 1С request per 1,000 records per object family);
3. a **one-change re-sync** after one phone is changed in 1С through the emulator's mutation API (expected: ≤ 3
   Bitrix24 requests);
4. unless ``--skip-naive``: the **small** data set synced twice on fresh portals — batched (ours) and with
   batching disabled (every command its own HTTP request, as a naive connector does) — and the ratios between them.

Per kind and in total it prints: 1С records, Bitrix24 commands, HTTP requests, commands per request, 1С requests,
wall time, peak memory, and the floor: ``ceil(commands / 50)`` requests, which at the emulator's rate take
``(requests − burst) / rate`` seconds (the burst is free once, at the start: so the time floor is given for the
whole sync, per kind only the request floor). Memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` — the peak
resident set of this process (Django, our sync, no emulator) since it started, i.e. after a phase it is the peak
up to the end of that phase; ``--tracemalloc`` adds the peak of Python allocations per phase (slower).
``--profile`` prints the cProfile top functions of the one-change sync (the initial sync is not profiled: cProfile
would slow it and spoil the comparison with the floor). ``--results FILE`` replaces this size's block
in bench/RESULTS.md. The benchmark uses a PostgreSQL database of its own (``bx24app_bench``, created and dropped)
and the Redis of the environment.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import re
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("counterparties", "products", "orders")
BENCH_DB = "bx24app_bench"
BATCH = 50


# ---------------------------------------------------------------------------------------------- environment
def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    parser.add_argument("--rate", type=float, default=2.0, help="portal leaky-bucket rate (emulator and our limiter)")
    parser.add_argument("--burst", type=int, default=50, help="portal leaky-bucket size (emulator)")
    parser.add_argument("--skip-naive", action="store_true", help="skip the small batched/naive comparison")
    parser.add_argument("--skip-resync", action="store_true", help="initial sync only")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure Python allocation peaks per phase")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the one-change sync, print the top functions")
    parser.add_argument("--memory-only", action="store_true",
                        help="memory of the 1С side only: every kind read and mapped as the sync does, no Bitrix24")
    parser.add_argument("--results", default="", help="write this size's figures into FILE (e.g. bench/RESULTS.md)")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited: {process.args}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


class Emulator:
    """An emulator in a process of its own (its memory is not ours), over HTTP only."""

    def __init__(self, args: list[str], probe_path: str):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", *args, "--port", str(self.port)], cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(self.base_url + probe_path, self.process)

    def get(self, path: str):
        return requests.get(self.base_url + path, timeout=60).json()

    def post(self, path: str, body=None):
        response = requests.post(self.base_url + path, json=body or {}, timeout=60)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def database_url() -> str:
    """The environment's DATABASE_URL (or the test profile's default) with the database name replaced."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bx24app")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + BENCH_DB, parts.query, parts.fragment))


def admin_sql(sql: str) -> None:
    import psycopg2

    parts = urlsplit(database_url())
    connection = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                                  user=parts.username or "postgres", password=parts.password or None,
                                  dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def django_setup() -> None:
    os.environ.setdefault("APP_ENV", "test")
    os.environ["DATABASE_URL"] = database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bx24app.settings")
    admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
    admin_sql(f'CREATE DATABASE "{BENCH_DB}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return (f"{os.cpu_count()} CPU ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


# ---------------------------------------------------------------------------------------------- portal
def provision(b24: Emulator, onec: Emulator, rate: float):
    """A portal as the installer leaves it (tokens, PortalSettings, stages/fields), both buckets full again."""
    from django.utils import timezone

    from bx24app.bitrix.limiter import PortalRateLimiter, redis_client
    from bx24app.models import Portal, PortalSettings
    from bx24app.services.install import portal_setup

    info = b24.post("/_emulator/portals", {})
    form = b24.post(f"/_emulator/portals/{info['member_id']}/install-params", {})["form"]
    portal = Portal.objects.create(
        member_id=info["member_id"], domain=info["domain"], protocol="http",
        client_endpoint=info["client_endpoint"], server_endpoint=info["server_endpoint"],
        application_token=form["APPLICATION_TOKEN"], access_token=form["AUTH_ID"], refresh_token=form["REFRESH_ID"],
        access_expires_at=timezone.now() + timedelta(seconds=int(form["AUTH_EXPIRES"])),
        installed_by_user_id=info["admin_user_id"])
    PortalSettings.objects.create(portal=portal, onec_url=f"{onec.base_url}/ut103/odata/standard.odata/",
                                  onec_user="odata", onec_password="odata")
    portal_setup(portal)
    portal.refresh_from_db()
    b24.post("/_emulator/faults", {"reset_buckets": True})  # the setup's requests must not eat the burst
    redis_client().delete(PortalRateLimiter(portal).bucket_key)
    return portal


# ---------------------------------------------------------------------------------------------- measuring
@dataclass
class KindFigures:
    kind: str
    records: int = 0
    commands: int = 0
    requests: int = 0
    writes: int = 0
    onec_requests: int = 0
    seconds: float = 0.0
    rss_mb: float = 0.0
    py_peak_mb: float | None = None
    status: str = ""
    counts: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)  # HTTP requests per method, as the portal counted them

    @property
    def per_request(self) -> float:
        return self.commands / self.requests if self.requests else 0.0

    @property
    def floor_requests(self) -> int:
        return math.ceil(self.commands / BATCH)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_commands(stats: dict) -> int:
    from bx24app.bitrix.client import is_read_only

    return sum(n for method, n in (stats.get("commands") or {}).items() if not is_read_only(method))


def run_kind(portal, kind: str, b24: Emulator, *, use_tracemalloc: bool) -> KindFigures:
    from sync.services.runs import sync_run_execute

    b24.post("/_emulator/stats/reset")
    if use_tracemalloc:
        tracemalloc.reset_peak()
    started = time.monotonic()
    run = sync_run_execute(portal, kinds=[kind], trigger="bench")
    seconds = time.monotonic() - started
    figures = KindFigures(kind, records=sum(c.get("onec_records", 0) for c in run.counts.values()),
                          commands=run.rest_commands, requests=run.rest_requests, onec_requests=run.onec_requests,
                          seconds=seconds, rss_mb=rss_mb(), status=run.status, counts=run.counts)
    portal_stats = b24.get("/_emulator/stats")
    figures.writes = write_commands(portal_stats)
    figures.methods = portal_stats.get("requests") or {}
    if use_tracemalloc:
        figures.py_peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    if run.error:
        figures.status += f" ({run.error[:120]})"
    return figures


def onec_families(onec: Emulator, portal) -> tuple[str, bool]:
    """1С requests per entity set (object family) of the phase just run, against that set's size.

    Target: at most one request per 1,000 records of a family — i.e. ≤ max(1, records / 1,000) requests.
    """
    stats = onec.get("/_emulator/stats").get("by_entity_set") or {}
    odata = portal.settings.onec_url
    lines = ["| 1С entity set | records | requests | allowed (max(1, records/1000)) | met |",
             "|---|---:|---:|---:|---|"]
    all_ok = True
    for entity_set, hits in sorted(stats.items(), key=lambda kv: -kv[1]):
        base = entity_set.split("(")[0].split("/")[0]
        rows = 0
        # a register's records (…_RecordType where the publication has it), not its record sets
        candidates = [base + "_RecordType", base] if base.startswith(("InformationRegister_",
                                                                      "AccumulationRegister_")) else [base]
        for name in candidates:
            try:
                rows = int(requests.get(f"{odata}{name}/$count", auth=("odata", "odata"), timeout=60).text)
                break
            except (ValueError, requests.RequestException):
                continue
        allowed = max(1.0, rows / 1000)
        ok = hits <= allowed
        all_ok &= ok
        lines.append(f"| {entity_set} | {rows} | {hits} | {allowed:g} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines), all_ok


def run_phase(portal, b24: Emulator, *, use_tracemalloc: bool = False, profile: bool = False) -> list[KindFigures]:
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    try:
        return [run_kind(portal, kind, b24, use_tracemalloc=use_tracemalloc) for kind in KINDS]
    finally:
        if profiler:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())


def total(rows: list[KindFigures]) -> KindFigures:
    out = KindFigures("total")
    for row in rows:
        for name in ("records", "commands", "requests", "writes", "onec_requests", "seconds"):
            setattr(out, name, getattr(out, name) + getattr(row, name))
    out.rss_mb = max((r.rss_mb for r in rows), default=0)
    peaks = [r.py_peak_mb for r in rows if r.py_peak_mb is not None]
    out.py_peak_mb = max(peaks) if peaks else None
    return out


def floor_seconds(commands: int, rate: float, burst: int) -> float:
    return max(0.0, (math.ceil(commands / BATCH) - burst) / rate)


def table(title: str, rows: list[KindFigures], rate: float, burst: int) -> str:
    whole = total(rows)
    lines = [f"**{title}**", "",
             "| kind | 1С records | B24 commands | B24 writes | HTTP requests | cmd/request | floor requests | "
             "1С requests | 1С req / 1,000 records | wall s | peak RSS MB | py peak MB | status |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in [*rows, whole]:
        per_k = row.onec_requests / (row.records / 1000) if row.records else 0
        py_peak = f"{row.py_peak_mb:.1f}" if row.py_peak_mb is not None else "—"
        name = f"**{row.kind}**" if row.kind == "total" else row.kind
        lines.append(f"| {name} | {row.records} | {row.commands} | {row.writes} | {row.requests} | "
                     f"{row.per_request:.1f} | {row.floor_requests} | {row.onec_requests} | {per_k:.2f} | "
                     f"{row.seconds:.1f} | {row.rss_mb:.0f} | {py_peak} | {row.status} |")
    floor = floor_seconds(whole.commands, rate, burst)
    ratio = whole.seconds / floor if floor else float("nan")
    lines += ["", f"Floor: {whole.floor_requests} requests (ceil({whole.commands}/50)) → "
                  f"({whole.floor_requests} − {burst}) / {rate:g} = {floor:.1f} s at the portal's rate. "
                  f"Ours: {whole.requests} requests ({whole.requests / max(1, whole.floor_requests):.3f} × floor), "
                  f"{whole.seconds:.1f} s ({ratio:.3f} × floor)." if floor else
              f"Floor: {whole.floor_requests} requests, within the burst (0 s at the rate). Ours: {whole.requests} "
              f"requests, {whole.seconds:.1f} s."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- naive mode
def one_call_per_command_client():
    """A BitrixClient whose ``batch`` sends every command as its own HTTP request (a naive connector).

    ``$result[key][path]`` references are resolved on our side from the answers already received, exactly what a
    connector without batch does (create the company, then the requisite with the company's id, …).
    """
    from bx24app.bitrix.client import BatchResult, BitrixClient
    from bx24app.bitrix.errors import BitrixError, OutcomeUnknown, PortalNeedsReauth, TransportError

    reference = re.compile(r"^\$result\[([^\]]+)\]((?:\[[^\]]+\])*)$")

    def resolve(value, results):
        if isinstance(value, str):
            match = reference.match(value)
            if match:
                found = results[match.group(1)]
                for part in re.findall(r"\[([^\]]+)\]", match.group(2)):
                    found = found[int(part)] if isinstance(found, list) else found[part]
                return found
            return value
        if isinstance(value, dict):
            return {k: resolve(v, results) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [resolve(v, results) for v in value]
        return value

    class OneCallPerCommand(BitrixClient):
        def batch(self, commands, halt=False):
            outcome = BatchResult()
            for key, (method, params) in commands.items():
                try:
                    outcome.results[key] = self.call(method, resolve(params or {}, outcome.results))
                except (OutcomeUnknown, TransportError, PortalNeedsReauth):
                    raise
                except (BitrixError, KeyError) as error:
                    outcome.errors[key] = error if isinstance(error, BitrixError) else BitrixError(
                        "UNRESOLVED", str(error))
            return outcome

    return OneCallPerCommand


def naive_comparison(b24: Emulator, rate: float, burst: int) -> str:
    import sync.services.context as context_module

    onec = Emulator(["emulators.onec", "--size", "small", "--seed", "1"], "/_emulator/cases")
    try:
        batched = run_phase(provision(b24, onec, rate), b24)
        original = context_module.BitrixClient
        context_module.BitrixClient = one_call_per_command_client()
        try:
            naive = run_phase(provision(b24, onec, rate), b24)
        finally:
            context_module.BitrixClient = original
    finally:
        onec.stop()
    ours, theirs = total(batched), total(naive)
    return "\n\n".join([
        table("Small data set, batched (ours), initial sync", batched, rate, burst),
        table("Small data set, batching disabled (one command per HTTP request), initial sync", naive, rate, burst),
        f"Naive / ours: **{theirs.requests / max(1, ours.requests):.1f}× the requests** "
        f"({theirs.requests} vs {ours.requests}), **{theirs.seconds / max(0.001, ours.seconds):.1f}× the time** "
        f"({theirs.seconds:.1f} s vs {ours.seconds:.1f} s).",
    ])


# ---------------------------------------------------------------------------------------------- targets
def targets(initial: list[KindFigures], unchanged: list[KindFigures] | None, changed: list[KindFigures] | None,
            rate: float, burst: int) -> str:
    whole = total(initial)
    floor = floor_seconds(whole.commands, rate, burst)
    lines = ["| target | measured | met |", "|---|---|---|"]

    def add(name, measured, ok):
        lines.append(f"| {name} | {measured} | {'yes' if ok else '**no**'} |")

    add("initial: ≥ 45 commands per request", f"{whole.per_request:.1f}", whole.per_request >= 45)
    if floor:
        add("initial: wall time ≤ 1.15 × floor", f"{whole.seconds:.1f} s / {floor:.1f} s = "
            f"{whole.seconds / floor:.3f}", whole.seconds <= 1.15 * floor)
    if unchanged:
        writes = sum(r.writes for r in unchanged)
        add("no-change: zero Bitrix24 writes", f"{writes} writes, {sum(r.requests for r in unchanged)} requests "
                                               "(reads)", writes == 0)
    if changed:
        requests_ = sum(r.requests for r in changed)
        per_kind = ", ".join(f"{r.kind} {r.requests}" for r in changed)
        add("one change: ≤ 3 Bitrix24 requests", f"{requests_} ({per_kind})", requests_ <= 3)
    return "\n".join(lines)


def write_results(path: Path, size: str, block: str) -> None:
    start, end = f"<!-- bench:{size} -->", f"<!-- /bench:{size} -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    new = f"{start}\n{block}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + new + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + new + "\n"
    path.write_text(text)


# ---------------------------------------------------------------------------------------------- memory only
def memory_only(size: str) -> str:
    """Read and map every record the way an initial sync does (scan, then read() in the services' chunks), with no
    portal: the 1С side is where the records live in memory; the Bitrix24 side sends 50-command batches as it goes.
    Run once per size in a fresh process (ru_maxrss is the process's lifetime peak)."""
    from sync.engine import chunked
    from sync.mapping.counterparties import counterparty_to_bundle
    from sync.mapping.products import CatalogSetup, product_to_payload
    from sync.onec.client import ODataClient, OneCStats
    from sync.onec.counterparties import CounterpartyReader
    from sync.onec.orders import OrderReader
    from sync.onec.products import ProductReader

    tracemalloc.start()
    onec = Emulator(["emulators.onec", "--size", size, "--seed", "1"], "/_emulator/cases")
    rows = ["| kind | 1С records read | 1С requests | s | py peak MB above start (tracemalloc) | peak RSS MB so far |",
            "|---|---:|---:|---:|---:|---:|"]
    try:
        client = ODataClient(f"{onec.base_url}/ut103/odata/standard.odata/", "odata", "odata", stats=OneCStats())
        setup = CatalogSetup(iblock_id=1, base_price_type_id=1)
        plans = [  # readers are made per kind and dropped after it, so no kind's data outlives it
            ("counterparties", lambda: CounterpartyReader(client), 250, lambda r: counterparty_to_bundle(r)),
            ("products", lambda: ProductReader(client), 250, lambda r: product_to_payload(r, setup)),
            ("orders", lambda: OrderReader(client), 200, lambda r: r),
        ]
        for kind, make_reader, chunk, mapping in plans:
            gc.collect()
            tracemalloc.reset_peak()
            start_mb = tracemalloc.get_traced_memory()[0] / 1024 / 1024
            before, started = client.stats.requests, time.monotonic()
            reader = make_reader()
            refs = reader.scan({}).changed_refs
            done = 0
            for part in chunked(list(refs), chunk):
                done += len([mapping(record) for record in reader.read(part)])
            after = client.stats.requests
            peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024 - start_mb
            rows.append(f"| {kind} | {done} | {after - before} | {time.monotonic() - started:.1f} | {peak:.0f} | "
                        f"{rss_mb():.0f} |")
            reader = refs = None
    finally:
        onec.stop()
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    if args.memory_only:
        os.environ.setdefault("APP_ENV", "test")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bx24app.settings")
        import django

        django.setup()
        block = (f"### Memory, 1С side only, `--size {args.size} --memory-only` — "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\nMachine: {machine()}.\n\n"
                 + memory_only(args.size))
        print(block, flush=True)
        if args.results:
            write_results(Path(args.results), f"memory-{args.size}", block)
        return 0
    os.environ["BITRIX24_RATE_LIMIT"] = str(args.rate)  # our limiter: the same rate as the portal
    os.environ["BITRIX24_ALLOW_HTTP"] = "1"
    django_setup()
    from django.conf import settings

    if args.tracemalloc:
        tracemalloc.start()
    b24 = Emulator(["emulators.bitrix24", "--rate", str(args.rate), "--burst", str(args.burst),
                    "--client-id", settings.BITRIX24_CLIENT_ID, "--client-secret", settings.BITRIX24_CLIENT_SECRET],
                   "/_emulator/portals")
    settings.BITRIX24_OAUTH_SERVERS = [b24.base_url]
    onec = Emulator(["emulators.onec", "--size", args.size, "--seed", "1"], "/_emulator/cases")
    sections = [f"### `--size {args.size}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
                f"Machine: {machine()}. Portal limits: rate {args.rate:g}/s, burst {args.burst} (emulator); our "
                f"limiter {args.rate:g}/s. Memory: ru_maxrss of the bench process (emulators run in their own "
                "processes)" + ("; py peak = tracemalloc peak per phase." if args.tracemalloc else ".")]
    try:
        portal = provision(b24, onec, args.rate)
        print(f"portal {portal.member_id}: initial sync…", flush=True)
        initial = run_phase(portal, b24, use_tracemalloc=args.tracemalloc)
        sections.append(table("Initial sync", initial, args.rate, args.burst))
        print(sections[-1], flush=True)
        unchanged = changed = None
        if not args.skip_resync:
            onec.post("/_emulator/stats/reset")
            unchanged = run_phase(portal, b24, use_tracemalloc=args.tracemalloc)
            sections.append(table("No-change re-sync", unchanged, args.rate, args.burst))
            families, families_ok = onec_families(onec, portal)
            sections.append("1С requests of the no-change re-sync per object family (entity set):\n\n" + families)
            print(sections[-2] + "\n\n" + sections[-1], flush=True)
            ref = onec.get("/_emulator/cases")["counterparty_no_contacts"][0]
            requests.put(f"{onec.base_url}/_emulator/counterparties/{ref}/contact-info", timeout=30,
                         json={"type": "Телефон", "kind_code": "000000005", "value": "+7 (812) 555-01-01"}
                         ).raise_for_status()
            changed = run_phase(portal, b24, use_tracemalloc=args.tracemalloc, profile=args.profile)
            sections.append(table("One-change re-sync (one phone changed in 1С)", changed, args.rate, args.burst)
                            + "\n\nRequests by method (as the portal counted them): "
                            + "; ".join(f"{r.kind}: {json.dumps(r.methods)}" for r in changed))
            print(sections[-1], flush=True)
        onec.stop()
        if not args.skip_naive:
            sections.append(naive_comparison(b24, args.rate, args.burst))
            print(sections[-1], flush=True)
        sections.append("Targets:\n\n" + targets(initial, unchanged, changed, args.rate, args.burst)
                        + ("" if args.skip_resync else f"\n| no-change: ≤ 1 1С request per 1,000 records of each "
                           f"object family (table above) | see table | {'yes' if families_ok else '**no**'} |"))
        print(sections[-1], flush=True)
        sections.append("Raw counts per kind (initial): `" + json.dumps({r.kind: r.counts for r in initial},
                                                                        ensure_ascii=False) + "`")
    finally:
        onec.stop()
        b24.stop()
        from django.db import connections

        connections.close_all()
        admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
    if args.results:
        write_results(Path(args.results), args.size, "\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
