"""``ledger bench --scale smoke`` end to end on PostgreSQL: every figure key and the
environment are in the JSON (no speed is asserted: the bench reports, it does not
judge the machine)."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import psycopg
import pytest

from bench.report import FIGURES
from entrypoints.bootstrap import bootstrap
from entrypoints.cli.bench import register

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_bench_smoke_writes_every_figure_and_the_environment(
    postgres_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_base.rsplit("/", 1)[0] + "/ledger_bench"
    output = tmp_path / "bench.json"
    parser = argparse.ArgumentParser(prog="ledger")
    register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(
        ["bench", "--scale", "smoke", "--database-url", url, "--output", str(output)]
    )

    assert args.handler(args, None) == 0

    result = orjson.loads(output.read_bytes())
    figures = result["figures"]
    assert set(figures) == {spec.key for spec in FIGURES}
    for key, figure in figures.items():
        assert {"value", "unit", "ratio_to_limit", "targets", "status"} <= set(figure), key
        assert figure["value"] is not None or figure["note"].startswith("n/a"), key
    for key in (
        "limit.copy_1000_rows_per_s",
        "limit.notification_read_rows_per_s",
        "naive.bulk_append_events_per_s",
        "ledger.bulk_submit_events_per_s",
        "ledger.single_submit_ms_p99",
        "ledger.asof_read_1k_ms_p99",
        "ledger.asof_read_10k_ms_p99",
        "memory.peak_rss_mb",
        "ledger.disk_bytes_per_event",
    ):
        assert figures[key]["value"] > 0, key
    disk = result["counts"]["disk"]  # the groups add up to the schema's bytes
    assert sum(g["bytes"] for g in disk["groups"].values()) == disk["bytes"]
    assert disk["groups"]["records"]["bytes"] > 0 and disk["groups"]["indexes"]["bytes"] > 0
    assert disk["events"] >= 15_000
    assert figures["ledger.kafka_ingest_events_per_s"]["note"] == "n/a: --kafka not given"

    env = result["environment"]
    assert env["cores"] >= 1 and env["memory_bytes"] > 0 and env["cpu_model"]
    assert env["python"] and env["libraries"]["eventsourcing"].startswith("9.5")
    settings = env["postgres"]["settings"]
    for name in ("fsync", "synchronous_commit", "shared_buffers", "wal_level"):
        assert settings[name], name
    assert result["scale"]["name"] == "smoke" and result["scale"]["events"] == 15_000
    assert result["counts"]["ledger_bulk"] == {"recorded": 15_000}
    assert result["started_at"] < result["finished_at"]

    out = capsys.readouterr()
    assert "LEDGER bulk submit" in out.out
    assert out.err.strip().splitlines()[-1].startswith("bench smoke: 15,000 events")

    assert len(result["schemas"]) == 3
    with psycopg.connect(url) as conn:  # every schema this run made is gone
        left = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)", (result["schemas"],)
        ).fetchone()
    assert left == (0,)
