"""``ledger bench``'s options that change what a run measures."""

from __future__ import annotations

import argparse

import pytest

from bench.baselines import skip_naive
from bench.disk import table_group
from bench.measurement import Measurement, Options
from bench.report import FIGURES, evaluate
from bench.workloads import SCALES, Workload
from entrypoints.bootstrap import bootstrap
from entrypoints.cli.bench import register


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ledger")
    register(parser.add_subparsers(), bootstrap)
    return parser.parse_args(["bench", *argv])


def test_skip_naive_leaves_every_naive_figure_na_and_the_ratios_unjudged() -> None:
    assert _args("--scale", "full", "--skip", "naive").skip == ["naive"]
    r = Measurement(Options(scale=SCALES["smoke"]), Workload(SCALES["smoke"]))
    r.values["ledger.bulk_submit_events_per_s"] = 10_000.0
    skip_naive(r, "skipped (--skip naive)")

    figures = evaluate(r.values, r.notes)
    naive = [spec.key for spec in FIGURES if spec.key.startswith("naive.")]
    assert naive and all(figures[k]["note"] == "n/a: skipped (--skip naive)" for k in naive)
    assert figures["ledger.bulk_submit_events_per_s"]["times_better_than_naive"] is None


def test_skip_refuses_a_part_it_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--skip", "ledger")
    assert "invalid choice" in capsys.readouterr().err


def test_disk_groups_name_what_the_tables_hold() -> None:
    assert table_group("ledger_records") == "records"
    assert table_group("ledger_merkle") == "merkle"
    assert table_group("view_standing") == "views"
    assert table_group("ledger_state_snapshots") == "other"
