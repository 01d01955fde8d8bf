"""``ledger bench --federation``: regional ledgers appending in parallel against one, and
the national view's lag behind them (issue 22, item 6).

Rows (each ledger in its own PostgreSQL schema, each writer its own process):

* ``single``: concurrent single submits, one request at a time per writer (DESIGN.md,
  "the federation benchmark's single-submit rows"): one region with 1 writer, one region
  with 3 writers (they share its write lock), three regions with 1 writer each. A single
  submit is commit-bound (one fsync'd transaction under the ledger's lock), so ledgers
  add up where writers on one ledger queue.
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
from bench.ingest import create_topics, synthetic_events
from bench.report import percentile
from bench.run import _ensure_database, _schema
from events.codes import complete_subject_code
from events.envelope import parse_submission
from ledger.app import Ledger

__all__ = ["FederationSizes", "federation_events", "render_federation", "run_federation"]

REGIONS = ("360000", "120000", "440300")
"""Jiangxi, Tianjin, Shenzhen."""


@dataclass(frozen=True, slots=True)
class FederationSizes:
    """Events per writer: ``single`` one at a time, ``bulk`` in batches of ``batch``."""

    single: int = 600
    bulk: int = 20_000
    batch: int = 1000
    lag_single: int = 600


SIZES = {"smoke": FederationSizes(200, 5000, 1000, 200)}
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
        started = time.time()
        for payload in payloads:
            t = time.perf_counter()
            outcomes = ledger.submit(parse_submission(payload))
            latencies.append(time.perf_counter() - t)
            recorded += sum(o.status == "recorded" for o in outcomes)
        results.put(("ok", recorded, latencies, started, time.time()))
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    except BaseException:
        results.put(("error", traceback.format_exc(), [], 0.0, 0.0))
        with contextlib.suppress(Exception):
            barrier.abort()


@dataclass
class _Written:
    events: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events / self.seconds, 1) if self.seconds else None,
        }
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
    )


@contextlib.contextmanager
def _schemas(url: str, names: Sequence[str]) -> Iterator[list[str]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(_schema(url, n)) for n in names]


def _singles(region: str, writer: int, n: int, run: str) -> list[bytes]:
    return [orjson.dumps(e) for e in federation_events(region, writer, n, run)]


def _batches(region: str, writer: int, n: int, batch: int, run: str) -> list[bytes]:
    events = federation_events(region, writer, n, run)
    return [orjson.dumps(events[i : i + batch]) for i in range(0, n, batch)]


def measure_single(url: str, sizes: FederationSizes, where: _Regions, run: str) -> dict[str, Any]:
    """The three single-submit rows (module docstring)."""
    out: dict[str, Any] = {}
    n = sizes.single
    with _schemas(url, [f"fed_{run}_one"]) as [one]:
        out["one_region_1_writer"] = _write(
            [(one, REGIONS[0])], [_singles(REGIONS[0], 0, n, run)], where
        ).figures()
    with _schemas(url, [f"fed_{run}_one3"]) as [one]:
        out["one_region_3_writers"] = _write(
            [(one, REGIONS[0])] * 3,
            [_singles(REGIONS[0], k, n, run) for k in range(3)],
            where,
        ).figures()
    with _schemas(url, [f"fed_{run}_r{r}" for r in REGIONS]) as urls:
        out["three_regions_1_writer_each"] = _write(
            list(zip(urls, REGIONS, strict=True)),
            [_singles(r, 0, n, run) for r in REGIONS],
            where,
        ).figures()
    one = out["one_region_1_writer"]["events_per_s"]
    shared = out["one_region_3_writers"]["events_per_s"]
    three = out["three_regions_1_writer_each"]["events_per_s"]
    out["three_over_one"] = round(three / one, 2) if one else None
    out["three_over_one_with_3_writers"] = round(three / shared, 2) if shared else None
    return out


def measure_bulk(url: str, sizes: FederationSizes, where: _Regions, run: str) -> dict[str, Any]:
    """The two bulk rows (module docstring)."""
    out: dict[str, Any] = {}
    n, b = sizes.bulk, sizes.batch
    with _schemas(url, [f"fed_{run}_bulk1"]) as [one]:
        out["one_region"] = _write(
            [(one, REGIONS[0])], [_batches(REGIONS[0], 0, n, b, run)], where
        ).figures()
    with _schemas(url, [f"fed_{run}_bulk{r}" for r in REGIONS]) as urls:
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
    url: str, kafka: str, sizes: FederationSizes, where: _Regions, run: str
) -> dict[str, Any]:
    """The national view's lag behind three regions under single-submit load."""
    from federation.national.config import NationalConfig, Region
    from federation.national.consumer import ConsumerStats, NationalConsumer
    from federation.national.store import NationalStore
    from ledger.audit.keys import load_or_create_key, public_key_bytes

    names = [f"fed_{run}_lag{r}" for r in REGIONS] + [f"fed_{run}_national"]
    ctx = multiprocessing.get_context("spawn")
    with _schemas(url, names) as urls:
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
) -> dict[str, Any]:
    """Every row (module docstring), each ledger built by ``factories`` (the caller's
    composition root); writes the JSON to ``output`` when given."""
    sizes = SIZES.get(scale, FederationSizes())
    _ensure_database(database_url)
    run = uuid.uuid4().hex[:6]
    result: dict[str, Any] = {"sizes": asdict(sizes), "cpus": multiprocessing.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-federation-") as tmp:
        where = _Regions(Path(tmp), factories)
        started = time.perf_counter()
        result["single"] = measure_single(database_url, sizes, where, run)
        result["bulk"] = measure_bulk(database_url, sizes, where, run)
        if kafka:
            result["lag"] = measure_lag(database_url, kafka, sizes, where, run)
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
    lines.append(f"({result['cpus']} CPUs; {result['seconds']} s)")
    return "\n".join(lines)
