"""``ledger bench --federation``: regional ledgers appending in parallel against one, and
the national view's lag behind them (issue 22, item 6).

Rows (each ledger in its own PostgreSQL schema, each writer its own process):

* ``single``: concurrent single submits, one request at a time per writer (DESIGN.md,
  "the federation benchmark's single-submit rows"): one region with 1 writer, one region
  with 3 writers (they share its write lock), three regions with 1 writer each. A single
  submit waits on PostgreSQL (about a dozen statements in two transactions, the last an
  fsync'd commit under the ledger's lock; its own CPU is a quarter of its time), so
  ledgers add up where writers on one ledger queue. The rows run interleaved, in
  ``rounds`` (the machine's load moves between rows run minutes apart), and each writer
  reports its own CPU time per event. Regions on one PostgreSQL server share one WAL to
  flush and the server-wide lock a transaction that sends NOTIFY holds through its commit
  (the ledger's wake-up of its followers), so their commits take turns; deployed regions,
  each on its own server, share neither: ``--region-database-url`` (three times) puts
  each region on its own.
* ``bulk``: batches of 1,000 (one transaction each): one region with 1 process, three
  regions with 1 process each. Bulk is CPU-bound (parsing, deciding, hashing, the Merkle
  tree in Python): on a machine with fewer cores than processes the regions share them.
* ``lag`` (with ``--kafka``): the three regions take single submits while each runs its
  disclosure feed (a process) and the national view consumes all three feeds (one
  consumer group) into its own schema: how long after a region recorded a record its
  change was in the national store (p50/p95/max), and how long after the last write the
  national view had caught up.

The events are ``bench.ingest.synthetic_events`` (registrations, commitments,
evaluations, general violations) moved to each region's subjects and agencies.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.composition import Factories
from bench.database import ensure_database, fresh_schema
from bench.ingest import create_topics, synthetic_events
from bench.report import percentile
from events.codes import complete_subject_code
from events.envelope import parse_submission
from ledger.app import Ledger

__all__ = ["FederationSizes", "federation_events", "render_federation", "run_federation"]

REGIONS = ("360000", "120000", "440300")
"""Jiangxi, Tianjin, Shenzhen."""


@dataclass(frozen=True, slots=True)
class FederationSizes:
    """Events per writer: ``single`` one at a time (over ``rounds`` interleaved rounds),
    ``bulk`` in batches of ``batch``."""

    single: int = 600
    bulk: int = 20_000
    batch: int = 1000
    lag_single: int = 600
    rounds: int = 3


SIZES = {"smoke": FederationSizes(210, 5000, 1000, 200)}
"""``--scale`` → sizes (any other scale: the defaults, a run of a few minutes)."""


def federation_events(region: str, writer: int, n: int, run: str) -> list[dict[str, Any]]:
    """``n`` valid events for ``writer`` of ``region``: its own subjects (codes of the
    region's division, ``n/10`` of them) and the region's market regulator as source."""
    events = synthetic_events(n, run=f"{run}-{region}-{writer}")
    codes: dict[str, str] = {}
    for e in events:
        subject = e["subject"]
        if subject not in codes:
            codes[subject] = complete_subject_code(f"91{region[:4]}{writer:02d}{len(codes):08d}")
        e["subject"] = codes[subject]
        e["source"] = f"samr/{region}"
    return events


@dataclass(frozen=True)
class _Regions:
    """Where the regional ledgers keep their files, and how they are built (it is
    handed to every writer and feed process)."""

    files: Path
    factories: Factories

    def ledger(self, url: str, region: str) -> Ledger:
        """The ledger of ``region`` on the store ``url``, its keys and checkpoint log
        in :attr:`files`."""
        return self.factories.ledger(
            url,
            name=origin(region),
            signing_key_file=self.files / f"{region}.key",
            person_secret_file=self.files / f"{region}.person",
            checkpoint_log=self.files / f"{region}-checkpoints",
        )


def origin(region: str) -> str:
    """The origin name of ``region``'s ledger."""
    return f"credit-ledger/{region}"


def _writer(
    url: str,
    region: str,
    where: _Regions,
    payloads: list[bytes],
    barrier: Any,
    results: Any,
) -> None:
    """Writer process: submit each payload (one event, or a batch) and time it."""
    try:
        ledger = where.ledger(url, region)
        ledger.size()  # connected before the barrier
        barrier.wait(timeout=120)
        latencies = []
        recorded = 0
        started, cpu = time.time(), time.process_time()
        for payload in payloads:
            t = time.perf_counter()
            outcomes = ledger.submit(parse_submission(payload))
            latencies.append(time.perf_counter() - t)
            recorded += sum(o.status == "recorded" for o in outcomes)
        results.put(("ok", recorded, latencies, started, time.time(), time.process_time() - cpu))
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    except BaseException:
        results.put(("error", traceback.format_exc(), [], 0.0, 0.0, 0.0))
        with contextlib.suppress(Exception):
            barrier.abort()


@dataclass
class _Written:
    events: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    cpu_seconds: float = 0.0
    """The writer processes' own CPU time (``time.process_time``) over their loops."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @classmethod
    def combine(cls, parts: Sequence[_Written]) -> _Written:
        """Rounds of one row as one: their events, seconds and CPU added up."""
        return cls(
            events=sum(p.events for p in parts),
            seconds=sum(p.seconds for p in parts),
            latencies_ms=[x for p in parts for x in p.latencies_ms],
            started=min(p.started for p in parts),
            ended=max(p.ended for p in parts),
            cpu_seconds=sum(p.cpu_seconds for p in parts),
        )

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.rate, 1) if self.seconds else None,
        }
        if self.events:
            # what the writer processes themselves spent (parse, decide, chain, Merkle,
            # the driver); the rest of a submit's wall time is waiting on PostgreSQL
            out["client_cpu_ms_per_event"] = round(self.cpu_seconds / self.events * 1000, 2)
        if self.latencies_ms:
            for p in (50, 95, 99):
                out[f"ms_p{p}"] = round(percentile(self.latencies_ms, p) or 0.0, 2)
        return out


def _write(
    writers: Sequence[tuple[str, str]], shares: Sequence[list[bytes]], where: _Regions
) -> _Written:
    """Run one writer process per (url, region) with its share of payloads, all released
    at once; the span is the first writer's start to the last one's end."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(writers))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, region, where, share, barrier, results))
        for (url, region), share in zip(writers, shares, strict=True)
    ]
    for p in procs:
        p.start()
    got = [results.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [g[1] for g in got if g[0] == "error"]
    if errors:
        raise RuntimeError(f"a writer failed:\n{errors[0]}")
    started = min(g[3] for g in got)
    ended = max(g[4] for g in got)
    return _Written(
        events=sum(g[1] for g in got),
        seconds=ended - started,
        latencies_ms=[x * 1000 for g in got for x in g[2]],
        started=started,
        ended=ended,
        cpu_seconds=sum(g[5] for g in got),
    )


@contextlib.contextmanager
def _schemas(servers: Sequence[str], names: Sequence[str]) -> Iterator[list[str]]:
    """Fresh schemas ``names[i]`` on ``servers[i]``; yields their URLs; dropped on exit."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(fresh_schema(u, n)) for u, n in zip(servers, names, strict=True)]


def _singles(region: str, writer: int, n: int, run: str) -> list[bytes]:
    return [orjson.dumps(e) for e in federation_events(region, writer, n, run)]


def _batches(region: str, writer: int, n: int, batch: int, run: str) -> list[bytes]:
    events = federation_events(region, writer, n, run)
    return [orjson.dumps(events[i : i + batch]) for i in range(0, n, batch)]


def measure_single(
    servers: Sequence[str], sizes: FederationSizes, where: _Regions, run: str
) -> dict[str, Any]:
    """The three single-submit rows (module docstring), interleaved: in each of
    ``sizes.rounds`` rounds every row runs once on its share of the events, one after the
    other, on the same schemas, so that the machine's load (shared here, and changing by
    the minute) weighs on the rows alike. The ratios are the medians of the rounds' own
    ratios (each beside its rounds' figures). Region ``i`` is on ``servers[i]``; the
    one-region rows on ``servers[0]``."""
    rounds = max(sizes.rounds, 1)
    n = max(sizes.single // rounds, 1)
    names = ["one_region_1_writer", "three_regions_1_writer_each", "one_region_3_writers"]
    parts: dict[str, list[_Written]] = {name: [] for name in names}
    loads: list[float] = []
    schemas = [f"fed_{run}_one", f"fed_{run}_one3", *(f"fed_{run}_r{r}" for r in REGIONS)]
    with _schemas([servers[0], servers[0], *servers], schemas) as (one, one3, *regional):
        for k in range(rounds):
            loads.append(os.getloadavg()[0])
            w = 3 * k  # each round's writers have subjects of their own
            parts[names[0]].append(
                _write([(one, REGIONS[0])], [_singles(REGIONS[0], w, n, run)], where)
            )
            parts[names[1]].append(
                _write(
                    list(zip(regional, REGIONS, strict=True)),
                    [_singles(r, w, n, run) for r in REGIONS],
                    where,
                )
            )
            parts[names[2]].append(
                _write(
                    [(one3, REGIONS[0])] * 3,
                    [_singles(REGIONS[0], w + j, n, run) for j in range(3)],
                    where,
                )
            )
    out: dict[str, Any] = {name: _Written.combine(parts[name]).figures() for name in names}
    ones, threes, shared = (parts[name] for name in names)
    ratios = [t.rate / o.rate if o.rate else 0.0 for o, t in zip(ones, threes, strict=True)]
    shared_ratios = [
        t.rate / s.rate if s.rate else 0.0 for s, t in zip(shared, threes, strict=True)
    ]
    out["rounds"] = rounds
    out["three_over_one"] = round(statistics.median(ratios), 2)
    out["three_over_one_rounds"] = [round(x, 2) for x in ratios]
    out["three_over_one_with_3_writers"] = round(statistics.median(shared_ratios), 2)
    out["load_average_at_rounds"] = [round(x, 1) for x in loads]
    return out


def measure_bulk(
    servers: Sequence[str], sizes: FederationSizes, where: _Regions, run: str
) -> dict[str, Any]:
    """The two bulk rows (module docstring); region ``i`` on ``servers[i]``."""
    out: dict[str, Any] = {}
    n, b = sizes.bulk, sizes.batch
    with _schemas(servers[:1], [f"fed_{run}_bulk1"]) as [one]:
        out["one_region"] = _write(
            [(one, REGIONS[0])], [_batches(REGIONS[0], 0, n, b, run)], where
        ).figures()
    with _schemas(servers, [f"fed_{run}_bulk{r}" for r in REGIONS]) as urls:
        out["three_regions"] = _write(
            list(zip(urls, REGIONS, strict=True)),
            [_batches(r, 0, n, b, run) for r in REGIONS],
            where,
        ).figures()
    for row in out.values():
        row.pop("ms_p99", None)
    one, three = out["one_region"]["events_per_s"], out["three_regions"]["events_per_s"]
    out["three_over_one"] = round(three / one, 2) if one else None
    return out


def _feed(url: str, region: str, where: _Regions, kafka: str, topic: str, stop: Any) -> None:
    """Feed process: the region's disclosure feed to ``topic`` until ``stop`` is set."""
    from projections.feed import DisclosureFeed, feed_producer

    ledger = where.ledger(url, region)
    producer = feed_producer(kafka)
    try:
        DisclosureFeed(
            ledger,
            producer,
            topic=topic,
            source=f"{origin(region)}/disclosure",
            origin=origin(region),
        ).run(stop, idle_s=0.1)
    finally:
        producer.close(timeout=10)


def measure_lag(
    url: str,
    servers: Sequence[str],
    kafka: str,
    sizes: FederationSizes,
    where: _Regions,
    run: str,
) -> dict[str, Any]:
    """The national view's lag behind three regions (region ``i`` on ``servers[i]``, the
    national store on ``url``) under single-submit load."""
    from federation.national.config import NationalConfig, Region
    from federation.national.consumer import ConsumerStats, NationalConsumer
    from federation.national.store import NationalStore
    from ledger.audit.keys import load_or_create_key, public_key_bytes

    names = [f"fed_{run}_lag{r}" for r in REGIONS] + [f"fed_{run}_national"]
    ctx = multiprocessing.get_context("spawn")
    with _schemas([*servers, url], names) as urls:
        regions = tuple(
            Region(
                origin=f"credit-ledger/{r}",
                public_key=public_key_bytes(load_or_create_key(where.files / f"{r}.key")),
                base_url=f"http://{r}.credit.example",
                feed_topic=f"bench.feed.{r}.{run}",
                checkpoint_topic=f"bench.checkpoints.{r}.{run}",
            )
            for r in REGIONS
        )
        create_topics(kafka, {t: 3 for r in regions for t in (r.feed_topic, r.checkpoint_topic)})
        config = NationalConfig(regions, group=f"bench-national-{run}")
        store = NationalStore.open(where.factories.recorder(urls[-1]))
        consumer = NationalConsumer(
            store,
            config,
            bootstrap=kafka,
            max_poll_interval_ms=30_000,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        stop_national = threading.Event()
        totals: dict[str, ConsumerStats] = {}
        national = threading.Thread(
            target=lambda: totals.update(stats=consumer.run(stop_national, poll_ms=100)),
            daemon=True,
        )
        stop_feeds = ctx.Event()
        feeds = [
            ctx.Process(
                target=_feed, args=(u, r, where, kafka, reg.feed_topic, stop_feeds), daemon=True
            )
            for u, r, reg in zip(urls, REGIONS, regions, strict=False)
        ]
        try:
            national.start()
            for p in feeds:
                p.start()
            deadline = time.monotonic() + 30
            while not consumer.consumer.assignment() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2.0)  # the group settles; the feeds are connected
            written = _write(
                list(zip(urls, REGIONS, strict=False)),
                [_singles(r, 0, sizes.lag_single, run) for r in REGIONS],
                where,
            )
            # caught up: every feed processed its ledger, then the national store is idle
            recorders = [where.ledger(u, r).recorder for u, r in zip(urls, REGIONS, strict=False)]
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                behind = [
                    rec
                    for rec in recorders
                    if _feed_position(rec) < (rec.max_notification_id() or 0)
                ]
                if not behind:
                    break
                time.sleep(0.2)
            quiet_since = time.monotonic()
            applied = -1
            while time.monotonic() - quiet_since < 3.0 and time.monotonic() < deadline:
                figures = store.region_figures()
                now = sum(f["last_applied_us"] for f in figures.values())
                if now != applied:
                    applied, quiet_since = now, time.monotonic()
                time.sleep(0.3)
            for rec in recorders:
                rec.datastore.close()  # type: ignore[attr-defined]
            lags = [x / 1000 for x in store.lags_us(int(written.started * 1_000_000))]
            last_applied = max(f["last_applied_us"] for f in store.region_figures().values())
            return {
                "regions": len(REGIONS),
                "single_submits": written.figures(),
                "changes_applied": len(lags),
                "lag_ms_p50": round(percentile(lags, 50) or 0.0, 1),
                "lag_ms_p95": round(percentile(lags, 95) or 0.0, 1),
                "lag_ms_max": round(max(lags), 1) if lags else None,
                # 0: the national store already held every change when the writes ended
                "caught_up_s_after_last_write": round(
                    max(0.0, last_applied / 1e6 - written.ended), 2
                ),
            }
        finally:
            stop_feeds.set()
            for p in feeds:
                p.join(timeout=30)
            stop_national.set()
            national.join(timeout=30)
            consumer.close()
            store.close()


def _feed_position(recorder: Any) -> int:
    from projections.feed import DEFAULT_APPLICATION

    return int(recorder.max_tracking_id(DEFAULT_APPLICATION) or 0)


def run_federation(
    database_url: str,
    kafka: str | None,
    scale: str,
    output: Path | None,
    factories: Factories,
    region_database_urls: Sequence[str] = (),
) -> dict[str, Any]:
    """Every row (module docstring), each ledger built by ``factories`` (the caller's
    composition root); writes the JSON to ``output`` when given. With
    ``region_database_urls`` (one per region, :data:`REGIONS`) each region's ledger is on
    its own server, as deployed; without, all are on ``database_url``'s."""
    if region_database_urls and len(region_database_urls) != len(REGIONS):
        raise ValueError(f"give {len(REGIONS)} region database URLs, or none")
    servers = list(region_database_urls) or [database_url] * len(REGIONS)
    sizes = SIZES.get(scale, FederationSizes())
    for server in {database_url, *servers}:
        ensure_database(server)
    run = uuid.uuid4().hex[:6]
    result: dict[str, Any] = {
        "sizes": asdict(sizes),
        "cpus": multiprocessing.cpu_count(),
        "servers": len(set(servers)),
    }
    with tempfile.TemporaryDirectory(prefix="bench-federation-") as tmp:
        where = _Regions(Path(tmp), factories)
        started = time.perf_counter()
        result["single"] = measure_single(servers, sizes, where, run)
        result["bulk"] = measure_bulk(servers, sizes, where, run)
        if kafka:
            result["lag"] = measure_lag(database_url, servers, kafka, sizes, where, run)
        else:
            result["lag"] = None
            result["lag_note"] = "n/a: give --kafka BOOTSTRAP to measure the national view's lag"
        result["seconds"] = round(time.perf_counter() - started, 1)
    if output is not None:
        output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return result


def render_federation(result: dict[str, Any]) -> str:
    """The rows as a table for people."""
    lines = [
        f"{'federation row':<44} {'events':>8} {'seconds':>8} {'events/s':>10} {'p50 ms':>8} "
        f"{'p95 ms':>8}"
    ]

    def row(name: str, f: dict[str, Any]) -> None:
        lines.append(
            f"{name:<44} {f['events']:>8} {f['seconds']:>8} {f['events_per_s']:>10} "
            f"{f.get('ms_p50', ''):>8} {f.get('ms_p95', ''):>8}"
        )

    single, bulk = result["single"], result["bulk"]
    row("single: one region, 1 writer", single["one_region_1_writer"])
    row("single: one region, 3 writers", single["one_region_3_writers"])
    row("single: three regions, 1 writer each", single["three_regions_1_writer_each"])
    lines.append(
        f"{'single: three regions / one region':<44} {single['three_over_one']:>8}x "
        f"(/ one region with 3 writers: {single['three_over_one_with_3_writers']}x)"
    )
    if "three_over_one_rounds" in single:
        lines.append(
            f"  median of {single['rounds']} interleaved rounds: "
            f"{', '.join(f'{x}x' for x in single['three_over_one_rounds'])} "
            f"(load average {', '.join(str(x) for x in single['load_average_at_rounds'])}); "
            f"a single submit's own CPU {single['one_region_1_writer']['client_cpu_ms_per_event']}"
            f" ms of p50 {single['one_region_1_writer'].get('ms_p50')} ms: the rest waits on "
            "PostgreSQL"
        )
    lines.append("(bulk rows: p50/p95 per batch of 1,000)")
    row("bulk: one region", bulk["one_region"])
    row("bulk: three regions", bulk["three_regions"])
    lines.append(f"{'bulk: three regions / one region':<44} {bulk['three_over_one']:>8}x")
    lag = result.get("lag")
    if lag:
        row("lag load: three regions, single submits", lag["single_submits"])
        lines.append(
            f"national lag (record → national store): p50 {lag['lag_ms_p50']} ms, p95 "
            f"{lag['lag_ms_p95']} ms, max {lag['lag_ms_max']} ms over {lag['changes_applied']} "
            f"changes; caught up {lag['caught_up_s_after_last_write']} s after the last write"
        )
    else:
        lines.append(result.get("lag_note", ""))
    servers = result.get("servers", 1)
    lines.append(
        f"({result['cpus']} CPUs; the regions on {servers} PostgreSQL server"
        f"{'s' if servers != 1 else ''}; {result['seconds']} s)"
    )
    return "\n".join(lines)
