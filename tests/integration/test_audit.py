"""ledger.audit on both stores: checkpoints, proofs, bundles, the store verifier, the CLI.

Most tests share one demo ledger per store (60 subjects, loaded in daily batches like
``ledger demo``, a checkpoint half-way and one at the end); tests that alter the store get
a fresh ledger. Bundles are checked with tools/verify_bundle.py, in process and as a
subprocess, and proofs also with ledger.merkle.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import io
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from entrypoints.bootstrap import bootstrap, open_recorder
from entrypoints.settings import Settings
from events.codes import subject_stream_id
from ledger import merkle
from ledger.app import Ledger
from ledger.audit import verify as verify_module
from ledger.audit.bundle import BundleError, build_bundle, verify_subject
from ledger.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    head_leaf_hash,
    issue_checkpoint,
    latest_checkpoint,
    list_checkpoints,
)
from ledger.audit.keys import load_or_create_key, public_key_b64, public_key_bytes
from ledger.audit.proofs import (
    _recomputed_head_proof,
    consistency_proof,
    head_proof,
    inclusion_paths,
    verify_head_proof,
)
from ledger.audit.segments import scan_segment
from ledger.audit.stitching import Stitcher
from ledger.audit.verify import verify_store
from ledger.audit.verify_outcome import VerifyReport
from ledger.store.recorder import LedgerSQL
from tests.integration.audit_support import (
    TOOL,
    Cli,
    load_demo,
    load_tool,
    postgres_schema,
    random_events,
    subject_codes,
    submit,
)

vb = load_tool()
ORIGIN = "credit-ledger.test"


@dataclass
class Demo:
    url: str
    settings: Settings
    ledger: Ledger
    key: Ed25519PrivateKey
    checkpoints: list[Checkpoint]

    @property
    def recorder(self) -> LedgerSQL:
        return self.ledger.recorder

    @property
    def public(self) -> bytes:
        return public_key_bytes(self.key)

    def subjects(self, size: int | None = None) -> list[str]:
        with self.recorder.audit_reader() as cur:
            heads = self.recorder.select_heads(cur, size or self.ledger.size())
        return [s for s, _, _ in heads]


def _issue(ledger: Ledger, key: Ed25519PrivateKey, now_us: int | None = None) -> Checkpoint:
    return issue_checkpoint(ledger.recorder, key, ORIGIN, now_us or ledger.clock())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    where: contextlib.AbstractContextManager[str]
    if request.param == "sqlite":
        where = contextlib.nullcontext(f"sqlite:///{tmp_path_factory.mktemp('audit')}/ledger.db")
    else:
        where = postgres_schema(request.getfixturevalue("postgres_base"))
    with where as url:
        key_file = tmp_path_factory.mktemp("key") / "signing.key"
        settings = Settings(
            database_url=url,
            signing_key_file=key_file,
            name=ORIGIN,
            checkpoint_log=key_file.parent / "checkpoints",
        )
        ledger = bootstrap(settings)
        key = load_or_create_key(key_file, stderr=io.StringIO())
        checkpoints: list[Checkpoint] = []
        load_demo(ledger, 60, halfway=lambda: checkpoints.append(_issue(ledger, key)))
        checkpoints.append(_issue(ledger, key))
        yield Demo(url, settings, ledger, key, checkpoints)
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _execute(recorder: LedgerSQL, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Raw SQL on the store, as someone with database access would alter it."""
    with recorder.store.transaction() as cursor:
        cursor.execute(recorder.store.sql(sql), params)


# ---- checkpoints ---------------------------------------------------------------------------


def test_checkpoints_are_signed_stored_and_consistent(demo: Demo) -> None:
    first, last = demo.checkpoints
    assert 0 < first.size < last.size == demo.ledger.size()
    assert list_checkpoints(demo.recorder) == demo.checkpoints
    for cp in demo.checkpoints:
        assert cp.origin == ORIGIN
        assert cp.verify_signature(demo.public)
        # the signed root is the RFC 6962 root of the records' hashes
        with demo.recorder.audit_reader() as cur:
            rows = demo.recorder.audit_rows(cur, 0, cp.size)
            heads = demo.recorder.select_heads(cur, cp.size)
        assert merkle.root([merkle.leaf_hash(r[11]) for r in rows]).hex() == cp.root
        assert merkle.root([head_leaf_hash(*h) for h in heads]).hex() == cp.heads_root
    assert first.issued_us <= last.issued_us
    with demo.recorder.audit_reader() as cur:
        proof = consistency_proof(demo.recorder, cur, first, last)
    assert merkle.verify_consistency(
        first.size, last.size, bytes.fromhex(first.root), bytes.fromhex(last.root), proof.path
    )
    assert vb.verify_consistency(
        first.size, last.size, bytes.fromhex(first.root), bytes.fromhex(last.root), proof.path
    )


def test_issuing_without_growth_returns_the_latest(demo: Demo) -> None:
    again = _issue(demo.ledger, demo.key, now_us=demo.checkpoints[-1].issued_us + 10**9)
    assert again == demo.checkpoints[-1]
    assert list_checkpoints(demo.recorder) == demo.checkpoints


def test_checkpoints_are_never_rewritten(ledger: Ledger) -> None:
    key = Ed25519PrivateKey.generate()
    subjects = subject_codes(5, 1)
    submit(ledger, random_events(random.Random(1), 40, subjects, "a"))
    first = _issue(ledger, key, now_us=1_000)
    submit(ledger, random_events(random.Random(2), 30, subjects, "b"))
    second = _issue(ledger, key, now_us=500)  # a clock going back does not go back in time
    assert second.issued_us == first.issued_us == 1_000
    assert list_checkpoints(ledger.recorder) == [first, second]
    with ledger.recorder.audit_reader() as cur:
        (row,) = ledger.recorder.checkpoint_rows(cur, size=first.size)
    assert row[2] == first.signed_bytes() and row[3] == first.signature_bytes()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        _execute(
            ledger.recorder,
            f"INSERT INTO {ledger.recorder.checkpoints_table} VALUES (%s, %s, %s, %s)",
            (first.size, 1, b"{}", b"x"),
        )


def test_empty_ledger_checkpoint(ledger: Ledger, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    cp = _issue(ledger, key, now_us=5)
    assert (cp.size, cp.root, cp.heads_root) == (
        0,
        merkle.EMPTY_ROOT.hex(),
        merkle.EMPTY_ROOT.hex(),
    )
    report = verify_store(ledger.recorder, public_key=public_key_bytes(key))
    assert report.ok and report.checkpoints == 1, report.summary()
    code = subject_codes(1, 3)[0]
    bundle = build_bundle(ledger.recorder, code, cp, public_key_b64(key))
    assert bundle["records"] == [] and bundle["head"]["count"] == 0
    assert vb.verify(bundle, public_key_bytes(key)) == []


def test_issuing_refuses_when_signed_records_were_altered(ledger: Ledger) -> None:
    key = Ed25519PrivateKey.generate()
    subjects = subject_codes(4, 2)
    submit(ledger, random_events(random.Random(3), 37, subjects, "a"))  # 37: a partial block
    first = _issue(ledger, key)
    submit(ledger, random_events(random.Random(4), 20, subjects, "b"))
    rec = ledger.recorder
    _execute(
        rec,
        f"UPDATE {rec.events_table} SET hash = %s WHERE notification_id = %s",
        (b"\x01" * 32, 35),
    )
    with pytest.raises(
        CheckpointError, match="not consistent with the signed checkpoint of size 37"
    ):
        _issue(ledger, key)
    assert list_checkpoints(rec) == [first]


def test_issuing_refuses_when_signed_records_were_removed(ledger: Ledger) -> None:
    key = Ed25519PrivateKey.generate()
    submit(ledger, random_events(random.Random(5), 20, subject_codes(3, 4), "a"))
    _issue(ledger, key)
    rec = ledger.recorder
    _execute(rec, f"DELETE FROM {rec.events_table} WHERE notification_id = %s", (20,))
    with pytest.raises(CheckpointError, match="missing"):
        _issue(ledger, key)


# ---- proofs ---------------------------------------------------------------------------------


def test_inclusion_proofs_verify(demo: Demo) -> None:
    rng = random.Random(7)
    for cp in demo.checkpoints:
        positions = sorted({0, cp.size - 1, *rng.sample(range(cp.size), 40)})
        with demo.recorder.audit_reader() as cur:
            rows = {p: demo.recorder.audit_rows(cur, p, p + 1)[0] for p in positions}
            paths = inclusion_paths(demo.recorder, cur, [(p, rows[p][11]) for p in positions], cp)
        root = bytes.fromhex(cp.root)
        for p, path in zip(positions, paths, strict=True):
            leaf = merkle.leaf_hash(rows[p][11])
            assert merkle.verify_inclusion(p, cp.size, leaf, path, root)
            assert vb.verify_inclusion(p, cp.size, leaf, path, root)
            assert not merkle.verify_inclusion(
                p, cp.size, merkle.leaf_hash(b"\x00" * 32), path, root
            )


def _check_head(demo: Demo, subject: str, cp: Checkpoint) -> dict[str, Any]:
    with demo.recorder.audit_reader() as cur:
        proof = head_proof(demo.recorder, cur, subject, cp).to_json()
        rows = demo.recorder.stream_audit_rows(cur, subject_stream_id(subject), cp.size)
    assert verify_head_proof(proof, subject, bytes.fromhex(cp.heads_root)) == []
    records = [{"record": {"seq": r[3]}, "hash": bytes(r[11]).hex()} for r in rows]
    assert vb._check_head(proof, subject, bytes.fromhex(cp.heads_root), records) == []
    return proof


def test_head_proofs_for_every_subject_and_absent_ones(demo: Demo) -> None:
    for cp in demo.checkpoints:
        subjects = demo.subjects(cp.size)
        for subject in subjects:
            proof = _check_head(demo, subject, cp)
            assert proof["leaf"]["subject"] == subject and proof["count"] == len(subjects)
        first = _check_head(demo, subjects[0], cp)
        assert first["previous"] is None and first["index"] == 0
        assert _check_head(demo, subjects[-1], cp)["next"] is None
        for absent in ("00000000000000000A", "ZZZZZZZZZZZZZZZZZZ", subject_codes(1, 99)[0]):
            proof = _check_head(demo, absent, cp)
            assert proof["leaf"] is None and proof["inclusion"] == []
    # subjects that only appear after the first checkpoint are absent from it
    late = set(demo.subjects()) - set(demo.subjects(demo.checkpoints[0].size))
    for subject in sorted(late)[:3]:
        assert _check_head(demo, subject, demo.checkpoints[0])["leaf"] is None


def test_head_proof_falls_back_to_recomputing_pruned_heads(demo: Demo) -> None:
    """Heads of a checkpoint that were pruned (or never stored) are recomputed from the
    records and checked against the signed heads_root."""
    cp = demo.checkpoints[0]
    subject = demo.subjects(cp.size)[3]
    with demo.recorder.audit_reader() as cur:
        stored = head_proof(demo.recorder, cur, subject, cp)
        recomputed = _recomputed_head_proof(demo.recorder, cur, subject, cp)
    assert stored == recomputed


# ---- bundles ---------------------------------------------------------------------------------


def _run_tool(path: Path, public: bytes, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(TOOL),
            str(path),
            "--public-key",
            base64.b64encode(public).decode(),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _busiest(demo: Demo) -> str:
    with demo.recorder.audit_reader() as cur:
        heads = demo.recorder.select_heads(cur, demo.ledger.size())
    return max(heads, key=lambda h: h[1])[0]


def test_bundles_verify_with_the_standalone_tool(demo: Demo, tmp_path: Path) -> None:
    cli = Cli(demo.settings)
    subjects = demo.subjects()
    chosen = [_busiest(demo), subjects[0], subjects[-1], subject_codes(1, 42)[0]]
    for i, subject in enumerate(chosen):
        out = tmp_path / f"b{i}.json"
        assert cli("audit-bundle", subject, "--output", str(out)) == 0
        bundle = json.loads(out.read_text(encoding="utf-8"))
        assert bundle["checkpoint"] == demo.checkpoints[-1].to_json()
        assert [e["record"]["seq"] for e in bundle["records"]] == list(
            range(1, len(bundle["records"]) + 1)
        )
        res = _run_tool(out, demo.public)
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stderr == ""
        assert "(head proof)" in res.stdout
    # at the first checkpoint, with a consistency proof to the last one
    first, last = demo.checkpoints
    old = tmp_path / "old.json"
    assert cli("audit-bundle", chosen[0], "--checkpoint", str(first.size), "-o", str(old)) == 0
    res = _run_tool(old, demo.public)
    assert res.returncode == 0, res.stdout
    cons = tmp_path / "cons.json"
    with demo.recorder.audit_reader() as cur:
        cons.write_text(json.dumps(consistency_proof(demo.recorder, cur, first, last).to_json()))
    earlier = tmp_path / "cp.json"
    earlier.write_text(json.dumps(first.to_json()))
    newest = tmp_path / "b0.json"
    res = _run_tool(
        newest, demo.public, "--earlier-checkpoint", str(earlier), "--consistency", str(cons)
    )
    assert res.returncode == 0, res.stdout
    assert f"OK: consistent with earlier checkpoint size {first.size}" in res.stdout


def test_altered_bundles_fail_the_standalone_tool(demo: Demo, tmp_path: Path) -> None:
    subject = _busiest(demo)
    bundle = build_bundle(demo.recorder, subject, demo.checkpoints[-1], public_key_b64(demo.key))
    n = len(bundle["records"])
    assert n >= 5 and vb.verify(bundle, demo.public) == []

    def fails(edit: Any) -> list[str]:
        b = copy.deepcopy(bundle)
        edit(b)
        return vb.verify(b, demo.public)

    def edit_field(b: dict[str, Any]) -> None:
        record = b["records"][2]["record"]
        record["time"] = record["time"].replace("2", "3", 1)

    def edit_data(b: dict[str, Any]) -> None:
        b["records"][1]["record"]["data"]["extra"] = "x"

    def reorder(b: dict[str, Any]) -> None:
        b["records"][1], b["records"][3] = b["records"][3], b["records"][1]

    assert any("seq=3" in f and ": hash: " in f for f in fails(edit_field))
    assert any("seq=2" in f and ": hash: " in f for f in fails(edit_data))
    assert any(": seq: " in f for f in fails(reorder))
    assert any("seq=2" in f for f in fails(lambda b: b["records"].pop(0)))  # first dropped
    assert any(": seq: " in f for f in fails(lambda b: b["records"].pop(n // 2)))  # middle
    last_dropped = fails(lambda b: b["records"].pop())
    assert last_dropped and all(f.startswith("head: records: ") for f in last_dropped)
    assert fails(lambda b: b["records"].clear())  # all dropped
    b = copy.deepcopy(bundle)
    b["records"].pop()
    path = tmp_path / "truncated.json"
    path.write_text(json.dumps(b, ensure_ascii=False), encoding="utf-8")
    res = _run_tool(path, demo.public)
    assert res.returncode == 1
    assert res.stdout.startswith("FAIL: head: records: the bundle ends at seq")


def test_bundle_refuses_an_altered_store(ledger: Ledger) -> None:
    key = Ed25519PrivateKey.generate()
    subjects = subject_codes(3, 8)
    submit(ledger, random_events(random.Random(8), 30, subjects, "a"))
    cp = _issue(ledger, key)
    rec = ledger.recorder
    with rec.audit_reader() as cur:
        row = rec.audit_rows(cur, 12, 13)[0]
    _execute(
        rec,
        f"UPDATE {rec.events_table} SET recorded_us = recorded_us + 1 WHERE notification_id = %s",
        (13,),
    )
    with pytest.raises(BundleError) as exc:
        build_bundle(rec, row[1], cp, public_key_b64(key))
    assert exc.value.failure.position == 12 and exc.value.failure.check == "hash"
    failure = verify_subject(rec, row[1], cp, public_key_bytes(key))
    assert failure is not None and failure.position == 12
    assert (
        verify_subject(rec, next(s for s in subjects if s != row[1]), cp, public_key_bytes(key))
        is None
    )


# ---- the store verifier ------------------------------------------------------------------------


def test_verify_store_passes(demo: Demo) -> None:
    report = verify_store(demo.recorder, public_key=demo.public)
    assert report.ok, report.summary()
    assert report.records == demo.ledger.size()
    assert report.subjects == len(demo.subjects())
    assert report.checkpoints == 2 and report.warnings == []
    assert report.stored_nodes > 0
    assert report.to_json()["ok"] is True
    unsigned = verify_store(demo.recorder)
    assert unsigned.ok and unsigned.warnings
    stranger = Ed25519PrivateKey.generate()
    bad = verify_store(demo.recorder, public_key=public_key_bytes(stranger))
    assert not bad.ok and bad.failure is not None and "signature" in bad.failure.message


@pytest.mark.parametrize("align", [16, 64, 256])
def test_verify_store_in_segments(demo: Demo, align: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments stitched in order give the single pass's result; the checkpoint half-way
    falls inside a segment for some alignments and on a boundary for others."""
    monkeypatch.setattr(verify_module, "SEGMENT_ALIGN", align)
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 4 * align)
    plan = verify_module._segments(demo.ledger.size(), 3)
    assert len(plan) > 1
    sizes = [cp.size for cp in demo.checkpoints]
    report = VerifyReport()
    with demo.recorder.audit_reader() as cur:
        stitcher = Stitcher(demo.recorder, cur, demo.checkpoints, demo.public, report)
        for start, stop in plan:
            seg = scan_segment(demo.recorder, cur, start, stop, sizes, page=100)
            assert stitcher.add(seg) is None
        assert (
            verify_module._after(
                demo.checkpoints,
                demo.ledger.size(),
                demo.recorder.stored_tree_node_count(cur),
                report,
            )
            is None
        )
    single = verify_store(demo.recorder, public_key=demo.public)
    assert (report.records, report.subjects, report.stored_nodes, report.checkpoints) == (
        single.records,
        single.subjects,
        single.stored_nodes,
        single.checkpoints,
    )


def test_verify_store_with_worker_processes(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "SEGMENT_ALIGN", 128)
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 512)
    done: list[int] = []
    report = verify_store(
        demo.recorder,
        public_key=demo.public,
        workers=2,
        open_recorder=functools.partial(open_recorder, demo.url, pool_size=1),
        progress=done.append,
    )
    assert report.ok, report.summary()
    assert report.workers == 2 and report.records == demo.ledger.size() == sum(done)
    assert report.checkpoints == 2



@pytest.mark.parametrize(
    ("table", "column", "named"),
    [
        ("heads_table", "seq", "stored head leaf 3"),
        ("head_nodes_table", "hash", "stored heads-tree nodes differ"),
    ],
)
def test_worker_processes_catch_altered_checkpoint_heads(
    ledger: Ledger, store_url: str, table: str, column: str, named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """With worker processes the parent hashes the stored heads tree while they scan; an
    altered head leaf or heads-tree node still fails the checkpoint, as in one process."""
    monkeypatch.setattr(verify_module, "SEGMENT_ALIGN", 64)
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 256)
    key = Ed25519PrivateKey.generate()
    submit(ledger, random_events(random.Random(21), 400, subject_codes(80, 21), "w"))
    cp = _issue(ledger, key)
    rec = ledger.recorder

    def run() -> VerifyReport:
        return verify_store(
            rec,
            public_key=public_key_bytes(key),
            workers=2,
            open_recorder=functools.partial(open_recorder, store_url, pool_size=1),
        )

    good = run()
    assert good.ok and good.workers == 2, good.summary()
    where = "ordinal = 3" if column == "seq" else "level = 6 AND idx = 0"
    altered = "seq + 1" if column == "seq" else "%s"
    params = (cp.size,) if column == "seq" else (bytes(32), cp.size)
    _execute(
        rec,
        f"UPDATE {getattr(rec, table)} SET {column} = {altered} WHERE size = %s AND {where}",
        params,
    )
    bad = run()
    assert bad.failure is not None and bad.failure.check == "checkpoint", bad.summary()
    assert named in bad.failure.message

# ---- the command line --------------------------------------------------------------------------


def test_cli(demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(demo.settings)
    last = demo.checkpoints[-1]
    assert cli("checkpoint", "--json") == 0
    assert json.loads(capsys.readouterr().out) == last.to_json()
    assert cli("checkpoint") == 0
    out = capsys.readouterr()
    assert "unchanged" in out.out and last.root in out.out and "already issued" in out.err
    assert cli("checkpoint", "--list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == [cp.to_json() for cp in demo.checkpoints]
    assert cli("checkpoint", "--public-key") == 0
    assert capsys.readouterr().out.strip() == public_key_b64(demo.key)

    assert cli("verify", "--json", "--workers", "1") == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["ok"] and report["records"] == demo.ledger.size()
    assert "records/s" in out.err

    assert cli("proof", "inclusion", "5") == 0
    p = json.loads(capsys.readouterr().out)
    assert merkle.verify_inclusion(
        5,
        last.size,
        merkle.leaf_hash(bytes.fromhex(p["hash"])),
        [bytes.fromhex(h) for h in p["inclusion"]],
        bytes.fromhex(last.root),
    )
    first = demo.checkpoints[0]
    assert cli("proof", "consistency", str(first.size), str(last.size)) == 0
    c = json.loads(capsys.readouterr().out)
    assert c["from"] == first.size and c["to"] == last.size
    assert vb.verify_consistency(
        first.size,
        last.size,
        bytes.fromhex(first.root),
        bytes.fromhex(last.root),
        [bytes.fromhex(h) for h in c["proof"]],
    )
    subject = demo.subjects()[5]
    assert cli("proof", "head", subject, "--checkpoint", str(first.size)) == 0
    h = json.loads(capsys.readouterr().out)
    assert h["checkpoint"] == first.to_json() and h["subject"] == subject
    assert verify_head_proof(h["head"], subject, bytes.fromhex(first.heads_root)) == []

    # usage errors: exit 2
    assert cli("proof", "head", subject, "--checkpoint", "3") == 2
    assert "no checkpoint of size 3" in capsys.readouterr().err
    assert cli("proof", "inclusion", str(last.size)) == 2
    assert cli("proof", "consistency", str(last.size), str(first.size)) == 2
    assert cli("verify", "--public-key", "not-a-key") == 2
    capsys.readouterr()


def test_cli_verify_fails_with_exit_1(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=store_url, signing_key_file=tmp_path / "k", name=ORIGIN)
    ledger = bootstrap(settings)
    cli = Cli(settings)
    submit(ledger, random_events(random.Random(9), 25, subject_codes(3, 9), "a"))
    assert cli("checkpoint") == 0
    assert "generated a new Ed25519 checkpoint signing key" in capsys.readouterr().err
    assert cli("verify", "--workers", "1") == 0
    capsys.readouterr()
    rec = ledger.recorder
    _execute(
        rec, f"UPDATE {rec.events_table} SET source = %s WHERE notification_id = %s", ("samr/x", 8)
    )
    assert cli("verify", "--workers", "1") == 1
    out = capsys.readouterr()
    assert out.out.startswith("FAIL: position 7 subject ")
    assert ": hash: " in out.out and "FAILED" in out.err
    assert latest_checkpoint(rec) is not None
    rec.datastore.close()  # type: ignore[attr-defined]


def test_altered_stored_heads_are_not_carried_into_the_next_checkpoint(ledger: Ledger) -> None:
    key = Ed25519PrivateKey.generate()
    subjects = subject_codes(6, 11)
    submit(ledger, random_events(random.Random(11), 40, subjects, "a"))
    first = _issue(ledger, key)
    rec = ledger.recorder
    _execute(
        rec,
        f"UPDATE {rec.heads_table} SET seq = seq + 1 WHERE size = %s AND ordinal = %s",
        (first.size, 2),
    )
    report = verify_store(rec, public_key=public_key_bytes(key))
    assert report.failure is not None and "stored head leaf 2" in report.failure.message
    submit(ledger, random_events(random.Random(12), 10, subjects, "b"))
    second = _issue(ledger, key)  # recomputed from the records, not from the altered rows
    with rec.audit_reader() as cur:
        heads = rec.select_heads(cur, second.size)
    assert merkle.root([head_leaf_hash(*h) for h in heads]).hex() == second.heads_root
