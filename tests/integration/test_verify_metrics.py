"""``ledger verify`` records each run in the store (``ledger_verifications``) and ``GET
/metrics`` of the API reads them at scrape time: ``ledger_verify_total{outcome}``,
``ledger_verify_last_run_timestamp_seconds{outcome}``, ``ledger_verify_last_records``.
On both stores: a good ledger, then the same ledger with one record altered."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.access_log import AccessLog
from api.app import create_app
from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import build_parser
from entrypoints.settings import Settings
from ledger.audit.verifications import Verification, verification_summary
from tests.integration.audit_support import Cli, random_events, subject_codes, submit

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _verify_samples(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        if family.name.startswith("ledger_verify")
        for s in family.samples
    }


def _runs(samples: Samples, outcome: str) -> float:
    return samples[("ledger_verify_total", (("outcome", outcome),))]


def _last_run(samples: Samples, outcome: str) -> float | None:
    return samples.get(("ledger_verify_last_run_timestamp_seconds", (("outcome", outcome),)))


def test_verify_runs_are_recorded_and_scraped(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        database_url=store_url,
        signing_key_file=tmp_path / "signing.key",
        person_secret_file=tmp_path / "person.key",
        tokens_file=tmp_path / "tokens.json",
    )
    ledger = bootstrap(settings)
    cli = Cli(settings)
    submit(ledger, random_events(random.Random(5), 30, subject_codes(4, 5), "v"))
    assert cli("checkpoint") == 0
    size = ledger.size()
    app = create_app(
        ledger,
        tokens=TokenStore(settings.tokens_file),
        access_log=AccessLog(tmp_path / "access-log.jsonl", ledger.clock),
    )
    client = TestClient(app)

    before = _verify_samples(client)
    assert _runs(before, "ok") == 0 and _runs(before, "failed") == 0
    assert _last_run(before, "ok") is None and _last_run(before, "failed") is None
    assert ("ledger_verify_last_records", ()) not in before

    started = time.time()
    assert cli("verify", "--workers", "1") == 0
    good = _verify_samples(client)
    assert _runs(good, "ok") == 1 and _runs(good, "failed") == 0
    ok_at = _last_run(good, "ok")
    assert ok_at is not None and started - 1 <= ok_at <= time.time() + 1
    assert _last_run(good, "failed") is None
    assert good[("ledger_verify_last_records", ())] == size
    stored = verification_summary(ledger.recorder).last
    assert stored is not None and abs(stored.finished_us / 1_000_000 - ok_at) < 1e-3
    assert stored == Verification(stored.finished_us, "ok", size, size, None, None)

    rec = ledger.recorder
    with rec.store.transaction() as cursor:
        cursor.execute(
            rec.store.sql(f"UPDATE {rec.events_table} SET source = %s WHERE notification_id = %s"),
            ("samr/x", 8),
        )
    assert cli("verify", "--workers", "1") == 1
    bad = _verify_samples(client)
    assert _runs(bad, "ok") == 1 and _runs(bad, "failed") == 1
    failed_at = _last_run(bad, "failed")
    assert failed_at is not None and failed_at >= ok_at
    assert _last_run(bad, "ok") == ok_at
    last = verification_summary(rec).last
    assert last is not None
    assert (last.outcome, last.first_bad_position, last.reason, last.checkpoint_size) == (
        "failed",
        7,
        "hash",
        size,
    )
    assert bad[("ledger_verify_last_records", ())] == last.records
    capsys.readouterr()
    rec.datastore.close()  # type: ignore[attr-defined]


def test_verify_takes_every() -> None:
    args = build_parser().parse_args(["verify", "--every", "86400"])
    assert args.every == 86400 and callable(args.handler)
