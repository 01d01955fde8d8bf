"""Shared helpers of the audit tests: stores, data, the standalone verifier, the CLI."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import random
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import psycopg

import demo
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import demo_batches
from entrypoints.cli.audit import register
from entrypoints.settings import Settings
from events.codes import complete_subject_code
from events.envelope import Envelope, Refused, parse_submission
from ledger.app import Ledger

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "verify_bundle.py"


def load_tool() -> ModuleType:
    """tools/verify_bundle.py as a module (it is not a package member on purpose)."""
    spec = importlib.util.spec_from_file_location("verify_bundle_for_audit_tests", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema in the test database for longer than one test; dropped after."""
    schema = "a_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def load_demo(ledger: Ledger, subjects: int = 60, *, halfway: Any = None) -> None:
    """The demo data set in daily batches as ``ledger demo`` does; ``halfway()`` is called
    once, after half of the batches (e.g. to issue a checkpoint)."""
    generated = demo.generate(subjects=subjects, rules=ledger.rule_services())
    items: list[Envelope | Refused] = list(
        parse_submission(orjson.dumps([d.event for d in generated]))
    )
    recorded_at = {id(item): d.recorded_us for item, d in zip(items, generated, strict=True)}
    batches = list(demo_batches(items, generated, 1000))
    for n, batch in enumerate(batches):
        if n == len(batches) // 2 and halfway is not None:
            halfway()
        ledger.submit(batch, now_us=max(recorded_at[id(i)] for i in batch), system=True)


def subject_codes(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    codes = set()
    while len(codes) < n:
        body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        codes.add(complete_subject_code("91440300" + body))
    return sorted(codes)


_TYPES: list[tuple[str, dict[str, Any]]] = [
    ("credit.registration.submitted", {"category": "certificate", "description": "ISO 9001 证书"}),
    (
        "credit.violation.recorded",
        {
            "behaviour": "FOOD-0203",
            "severity": "general",
            "sector": "food",
            "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "document": "深市监认〔2024〕3号",
        },
    ),
    (
        "credit.evaluation.published",
        {"scheme": "公共信用综合评价", "grade": "良", "valid_until": "2024-03-31"},
    ),
]


def random_events(
    rng: random.Random, n: int, subjects: Sequence[str], tag: str
) -> list[dict[str, Any]]:
    """``n`` valid, reference-free CloudEvents over ``subjects`` (ids unique per ``tag``)."""
    out = []
    for k in range(n):
        kind, data = rng.choice(_TYPES)
        data = dict(data)
        if "description" in data:
            data["description"] += f" #{k} 😀"
        out.append(
            {
                "specversion": "1.0",
                "id": f"{tag}-{k:05d}",
                "source": f"samr/44030{rng.randint(0, 9)}",
                "type": kind,
                "subject": rng.choice(subjects),
                "time": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:00:00+08:00",
                "datacontenttype": "application/json",
                "data": data,
            }
        )
    return out


def submit(ledger: Ledger, events: list[dict[str, Any]]) -> None:
    outcomes = ledger.submit(parse_submission(orjson.dumps(events)))
    bad = [o.to_json() for o in outcomes if o.status != "recorded"]
    assert not bad, bad[:3]


class Cli:
    """The audit subcommands as ``ledger`` will run them once wired (``register``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.parser = argparse.ArgumentParser(prog="ledger")
        register(self.parser.add_subparsers(), bootstrap)

    def __call__(self, *argv: str) -> int:
        args = self.parser.parse_args(list(argv))
        code: int = args.handler(args, self.settings)
        return code
