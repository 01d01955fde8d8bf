"""The national view's lag metrics, as the alert LedgerNationalViewLagging reads them: the
lag in seconds of the newest change applied from an origin, and when a message of each
origin was last applied (the service's start until the first), with the time passed in."""

from __future__ import annotations

from federation.national.config import NationalConfig, Region
from federation.national.metrics import NationalMetrics
from federation.national.store import ItemChange
from ledger.audit.checkpoints import Checkpoint

JIANGXI = "credit-ledger/360000"
TIANJIN = "credit-ledger/120000"


def _region(origin: str, code: str) -> Region:
    return Region(
        origin=origin,
        public_key=bytes(32),
        base_url=f"https://{code}.example",
        feed_topic=f"credit.disclosure.changes.{code}",
        checkpoint_topic=f"credit.checkpoints.{code}",
    )


def _change(origin: str, recorded_s: float) -> ItemChange:
    return ItemChange(
        origin=origin,
        subject="91360000MA35G7XK2P",
        event_id="e-1",
        change="published",
        position=1,
        recorded_us=int(recorded_s * 1_000_000),
        item={"published": True},
        cause=None,
    )


def _checkpoint(origin: str) -> Checkpoint:
    return Checkpoint(origin, 1, "00" * 32, 0, "00" * 32, "")


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _metrics(clock: _Clock) -> NationalMetrics:
    config = NationalConfig((_region(JIANGXI, "360000"), _region(TIANJIN, "120000")))
    return NationalMetrics(config, clock=clock)


def _applied_at(metrics: NationalMetrics, origin: str) -> float:
    value = metrics.registry.get_sample_value(
        "ledger_national_applied_timestamp_seconds", {"origin": origin}
    )
    assert value is not None
    return value


def test_every_origin_starts_applied_at_the_start() -> None:
    metrics = _metrics(_Clock(1_000.0))
    assert _applied_at(metrics, JIANGXI) == _applied_at(metrics, TIANJIN) == 1_000.0


def test_a_batch_sets_the_lag_and_the_applied_time_of_its_origins_only() -> None:
    clock = _Clock(1_000.0)
    metrics = _metrics(clock)
    clock.now = 1_600.0
    metrics.taken([_change(JIANGXI, 1_300.0)], [])
    lag = metrics.registry.get_sample_value("ledger_national_lag_seconds", {"origin": JIANGXI})
    assert lag == 300.0
    assert _applied_at(metrics, JIANGXI) == 1_600.0
    assert _applied_at(metrics, TIANJIN) == 1_000.0  # nothing of Tianjin's: its age grows


def test_a_checkpoint_alone_counts_as_applied_without_a_lag_in_seconds() -> None:
    clock = _Clock(1_000.0)
    metrics = _metrics(clock)
    clock.now = 1_060.0
    metrics.taken([], [_checkpoint(TIANJIN)])
    assert _applied_at(metrics, TIANJIN) == 1_060.0
    lag = metrics.registry.get_sample_value("ledger_national_lag_seconds", {"origin": TIANJIN})
    assert lag is None
