"""Exports (按需共享) of the demo (100 subjects, SQLite), read back with DuckDB (the
files are written with pyarrow): the disclosure has one row per published record,
the snapshot's checkpoint verifies (signature, and its root recomputed here from
the records export), the API and the CLI agree, and each role gets what it may."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from events.instants import parse_instant
from ledger.audit.keys import load_or_create_key, public_key_bytes
from projections.public import EVERYTHING
from tests.e2e.apphelpers import AGENCY, DemoApp, build_demo_app

SUBJECTS = 100
AS_OF = "2026-10-31"
LEDGER = Path(__file__).resolve().parents[2] / ".venv/bin/ledger"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("insight-exports")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=SUBJECTS)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False)


def cli_export(
    demo_app: DemoApp, kind: str, out: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "LEDGER_DATABASE_URL": f"sqlite:///{demo_app.tmp / 'ledger.db'}",
        "LEDGER_SIGNING_KEY_FILE": str(demo_app.tmp / "signing.key"),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [str(LEDGER), "export", kind, "--as-of", AS_OF, "--output", str(out), *options],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )


def parquet_snapshot(path: Path) -> dict[str, Any]:
    """The snapshot from the Parquet footer, as DuckDB reads it."""
    rows = duckdb.sql(
        f"SELECT value FROM parquet_kv_metadata('{path}') WHERE key = 'credit-ledger.snapshot'"
    ).fetchall()
    assert len(rows) == 1
    found: dict[str, Any] = json.loads(bytes(rows[0][0]).decode())
    return found


def rfc6962_root(hashes: list[bytes]) -> bytes:
    """The RFC 6962 root of leaves ``H(0x00 ‖ d)`` (written here, independently)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashlib.sha256(b"\x00" + hashes[0]).digest()
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + rfc6962_root(hashes[:split]) + rfc6962_root(hashes[split:])
    ).digest()


def verify(checkpoint: dict[str, Any], demo_app: DemoApp) -> None:
    key = public_key_bytes(load_or_create_key(demo_app.tmp / "signing.key"))
    body = {k: checkpoint[k] for k in checkpoint if k != "signature"}
    signed = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    Ed25519PublicKey.from_public_bytes(key).verify(
        base64.b64decode(checkpoint["signature"]), signed.encode()
    )


def published_now(demo_app: DemoApp) -> set[tuple[str, str]]:
    """(subject, event id) of every record published at AS_OF, read subject by
    subject through the API's own reads."""
    views = demo_app.app.state.services.views
    out = set()
    for code in demo_app.subjects():
        body = views.disclosure(code, parse_instant(AS_OF), None, EVERYTHING).body
        out |= {(code, i["event_id"]) for i in body["items"] if i["published"]}
    return out


def test_the_disclosure_parquet_has_one_row_per_published_record_and_its_checkpoint_verifies(
    demo_app: DemoApp, tmp_path: Path
) -> None:
    out = tmp_path / "disclosure.parquet"
    run = cli_export(demo_app, "disclosure", out)
    rows = duckdb.sql(f"SELECT subject, event_id FROM '{out}'").fetchall()
    assert len(rows) == len(set(rows))
    assert set(rows) == published_now(demo_app)
    assert len(rows) > 100
    snapshot = parquet_snapshot(out)
    assert snapshot["kind"] == "disclosure" and snapshot["as_of"].startswith(AS_OF)
    checkpoint = snapshot["checkpoint"]
    assert (
        snapshot["position"] == checkpoint["size"] == demo_app.ledger.recorder.max_notification_id()
    )
    verify(checkpoint, demo_app)
    assert f"exported {len(rows):,} disclosure rows" in run.stderr

    records = tmp_path / "records.parquet"
    cli_export(demo_app, "records", records)
    hashes = duckdb.sql(f"SELECT hash FROM '{records}' ORDER BY position").fetchall()
    assert len(hashes) == checkpoint["size"]
    assert rfc6962_root([bytes.fromhex(h) for (h,) in hashes]).hex() == checkpoint["root"]
    assert parquet_snapshot(records)["checkpoint"] == checkpoint


def test_a_tampered_records_export_no_longer_matches_its_checkpoint(
    demo_app: DemoApp, tmp_path: Path
) -> None:
    records = tmp_path / "records.parquet"
    cli_export(demo_app, "records", records)
    checkpoint = parquet_snapshot(records)["checkpoint"]
    hashes = [
        bytes.fromhex(h)
        for (h,) in duckdb.sql(f"SELECT hash FROM '{records}' ORDER BY position").fetchall()
    ]
    del hashes[5]
    assert rfc6962_root(hashes).hex() != checkpoint["root"]


def test_csv_and_json_lines_carry_the_same_rows_and_a_snapshot_beside_them(
    demo_app: DemoApp, tmp_path: Path
) -> None:
    parquet = tmp_path / "standing.parquet"
    cli_export(demo_app, "standing", parquet)
    expected = duckdb.sql(f"SELECT subject, grade FROM '{parquet}' ORDER BY subject").fetchall()
    assert len(expected) == SUBJECTS
    csv_file = tmp_path / "standing.csv"
    cli_export(demo_app, "standing", csv_file, "--format", "csv")
    assert (
        duckdb.sql(f"SELECT subject, grade FROM read_csv('{csv_file}') ORDER BY subject").fetchall()
        == expected
    )
    lines = tmp_path / "standing.jsonl"
    cli_export(demo_app, "standing", lines, "--format", "jsonl")
    rows = [json.loads(line) for line in lines.read_text("utf-8").splitlines()]
    assert sorted((r["subject"], r["grade"]) for r in rows) == expected
    beside = json.loads((tmp_path / "standing.jsonl.snapshot.json").read_text("utf-8"))
    assert beside["checkpoint"] == parquet_snapshot(parquet)["checkpoint"]


def test_the_api_exports_the_same_snapshot(
    client: TestClient, demo_app: DemoApp, tmp_path: Path
) -> None:
    response = client.get(
        f"/v1/exports/disclosure?as_of={AS_OF}", headers=demo_app.headers("auditor")
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    out = tmp_path / "api.parquet"
    out.write_bytes(response.content)
    assert set(duckdb.sql(f"SELECT subject, event_id FROM '{out}'").fetchall()) == published_now(
        demo_app
    )
    assert json.loads(response.headers["ledger-snapshot"]) == parquet_snapshot(out)
    lists = client.get("/v1/exports/lists?format=jsonl", headers=demo_app.headers("auditor"))
    assert lists.status_code == 200 and lists.headers["content-type"] == "application/jsonl"


def test_who_may_export_what(client: TestClient, demo_app: DemoApp, tmp_path: Path) -> None:
    assert client.get("/v1/exports/records").status_code == 401
    assert (
        client.get("/v1/exports/records", headers=demo_app.headers("objection-handler")).status_code
        == 403
    )
    assert client.get("/v1/exports/nope", headers=demo_app.headers("auditor")).status_code == 404
    assert (
        client.get(
            "/v1/exports/records?format=xlsx", headers=demo_app.headers("auditor")
        ).status_code
        == 400
    )
    mine = client.get("/v1/exports/records?format=jsonl", headers=demo_app.headers("agency"))
    assert mine.status_code == 200
    sources = {json.loads(line)["source"] for line in mine.text.splitlines()}
    assert sources == {AGENCY}
