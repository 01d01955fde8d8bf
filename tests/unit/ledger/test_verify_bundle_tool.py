"""Tests of tools/verify_bundle.py, the standalone verifier of AUDIT-FORMAT.md bundles.

The bundles here are built by hand from ledger.chain (records, hashes), ledger.merkle (tree,
proofs, the heads tree) and a fresh Ed25519 key, independently of ledger.audit (whose
bundles tests/integration/test_audit.py checks with this tool)."""

from __future__ import annotations

import ast
import base64
import copy
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle
from ledger.chain import GENESIS, canonical, record_bytes, record_dict, record_hash

TOOL = Path(__file__).resolve().parents[3] / "tools" / "verify_bundle.py"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_bundle_under_test", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vb = _load_tool()

SUBJECT = "91110000MA01ABCD2X"
HEAD_OK = ", last seq 15 is the subject's head (head proof)"
OTHERS = ["91310000MA1FL0000A", "12100000400000624D"]


class Ledger:
    """A toy ledger: interleaved subjects, a perfect-node store, signed checkpoints."""

    def __init__(self, n: int = 45, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.records: list[dict[str, Any]] = []
        self.hashes: list[str] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.frontier: dict[int, bytes] = {}
        heads: dict[str, tuple[int, str]] = {}
        for position in range(n):
            subject = SUBJECT if position % 3 == 1 else rng.choice(OTHERS)
            seq, prev = heads.get(subject, (0, GENESIS))
            fields: dict[str, Any] = {
                "subject": subject,
                "seq": seq + 1,
                "position": position,
                "id": f"evt-{position:04d}",
                "source": "/gov/samr/beijing",
                "type": "cn.gov.credit.penalty.recorded",
                "time": "2024-05-01T08:00:00Z",
                "recorded_us": 1714550400000000 + position,
                "prev": prev,
            }
            data = {
                "amount": f"{rng.randint(1, 10**6)}.{rng.randint(0, 99):02d}",
                "reason": "逾期未报送年度报告 😀",
                "items": [position, {"k": None, "ok": True}],
            }
            h = record_hash(record_bytes(**fields, data_canonical=canonical(data)))
            self.records.append(record_dict(**fields, data=data))
            self.hashes.append(h)
            heads[subject] = (seq + 1, h)
            created, self.frontier = merkle.append(
                position, self.frontier, [merkle.leaf_hash(bytes.fromhex(h))]
            )
            self.nodes.update({(lvl, idx): nh for lvl, idx, nh in created})

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def heads(self, size: int) -> list[dict[str, Any]]:
        """The heads-tree leaves at ``size``: each subject's last record, sorted by subject."""
        last: dict[str, dict[str, Any]] = {}
        for r, h in zip(self.records[:size], self.hashes[:size], strict=True):
            last[r["subject"]] = {"subject": r["subject"], "seq": r["seq"], "hash": h}
        return [last[s] for s in sorted(last)]

    def heads_tree(self, size: int) -> tuple[list[dict[str, Any]], bytes, merkle.NodeGetter]:
        leaves = self.heads(size)
        hashed = [merkle.leaf_hash(canonical(leaf)) for leaf in leaves]
        created, _ = merkle.append(0, {}, hashed)
        nodes = {(lvl, idx): h for lvl, idx, h in created}
        return leaves, merkle.root(hashed), lambda level, index: nodes[(level, index)]

    def checkpoint(
        self, size: int, key: Ed25519PrivateKey | None = None, heads: bool = True
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "origin": "credit-ledger.test",
            "size": size,
            "root": merkle.root_from_frontier(size, self.node).hex(),
            "issued_us": 1714550500000000 + size,
        }
        if heads:
            body["heads_root"] = self.heads_tree(size)[1].hex()
        sig = (key or self.key).sign(canonical(body))
        return {**body, "signature": base64.b64encode(sig).decode()}

    def head(self, subject: str, size: int) -> dict[str, Any]:
        """The bundle's ``head`` (docs/audit-format-v1-additions.md) for ``subject``."""
        leaves, _, node = self.heads_tree(size)
        count = len(leaves)
        subjects = [leaf["subject"] for leaf in leaves]
        present = subject in subjects
        index = subjects.index(subject) if present else sum(s < subject for s in subjects)

        def at(i: int) -> dict[str, Any] | None:
            if not 0 <= i < count:
                return None
            proof = [p.hex() for p in merkle.inclusion_proof(i, count, node)]
            return {"leaf": dict(leaves[i]), "index": i, "inclusion": proof}

        own = at(index) if present else None
        return {
            "leaf": own["leaf"] if own else None,
            "index": index,
            "count": count,
            "inclusion": own["inclusion"] if own else [],
            "previous": at(index - 1),
            "next": at(index + 1 if present else index),
        }

    def bundle(
        self, subject: str = SUBJECT, size: int | None = None, head: bool = True
    ) -> dict[str, Any]:
        size = len(self.records) if size is None else size
        entries = [
            {
                "record": copy.deepcopy(r),
                "hash": h,
                "inclusion": [
                    p.hex() for p in merkle.inclusion_proof(r["position"], size, self.node)
                ],
            }
            for r, h in zip(self.records[:size], self.hashes[:size], strict=True)
            if r["subject"] == subject
        ]
        out = {
            "format": "credit-ledger-audit/1",
            "subject": subject,
            "public_key": base64.b64encode(self.public).decode(),
            "checkpoint": self.checkpoint(size),
            "records": entries,
        }
        if head:
            out["head"] = self.head(subject, size)
        return out


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
def bundle(ledger: Ledger) -> dict[str, Any]:
    return ledger.bundle()


def where(entry: dict[str, Any]) -> str:
    r = entry["record"]
    return f"record seq={r['seq']} position={r['position']}"


def assert_fails(fails: list[str], *needles: str) -> None:
    assert fails, "expected a failure"
    for needle in needles:
        assert any(needle in f for f in fails), (needle, fails)


# ---- good bundles ---------------------------------------------------------------------------


def test_good_bundle_passes(ledger: Ledger, bundle: dict[str, Any]) -> None:
    assert len(bundle["records"]) == 15
    assert vb.verify(bundle, ledger.public) == []
    assert vb.verify(bundle) == []
    for subject in OTHERS:
        assert vb.verify(ledger.bundle(subject), ledger.public) == []


def test_good_bundle_at_every_checkpoint_size(ledger: Ledger) -> None:
    for size in range(0, len(ledger.records) + 1):
        b = ledger.bundle(size=size)
        assert vb.verify(b, ledger.public) == [], size


def test_bundle_survives_a_json_round_trip(ledger: Ledger, bundle: dict[str, Any]) -> None:
    text = json.dumps(bundle, ensure_ascii=True, indent=1)
    assert vb.verify(vb.parse_json(text.encode()), ledger.public) == []


# ---- record tampering -----------------------------------------------------------------------


def _mutations(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if isinstance(value, str):
        if not value:
            return ["x"]
        out = []
        for i in {0, len(value) // 2, len(value) - 1}:
            c = value[i]
            out.append(value[:i] + ("0" if c != "0" else "1") + value[i + 1 :])
        return out
    if value is None:
        return [0]
    raise AssertionError(value)


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))]
    return [path]


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(obj, path[:-1])[path[-1]] = value


def test_editing_any_record_field_fails_naming_the_record(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    checked = 0
    for i, entry in enumerate(bundle["records"]):
        for path in _leaves(entry["record"]):
            for new in _mutations(_get(entry["record"], path)):
                b = copy.deepcopy(bundle)
                _set(b["records"][i]["record"], path, new)
                fails = vb.verify(b, ledger.public)
                assert_fails(fails, where(b["records"][i]) + ": ")
                named = [f for f in fails if f.startswith(where(b["records"][i]) + ": ")]
                assert any(": hash: " in f for f in named) or any(
                    f": {check}: " in f for f in named for check in ("format", "seq", "subject")
                ), (path, new, fails)
                checked += 1
    assert checked > 15 * 12


def test_every_byte_of_the_serialised_records_matters(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    """Change each character of one record's JSON text (where the result still parses):
    the bundle must fail."""
    entry = bundle["records"][4]
    text = json.dumps(entry["record"], ensure_ascii=False, separators=(",", ":"))
    changed = 0
    for i, c in enumerate(text):
        for repl in ("0" if c != "0" else "1", "x" if c != "x" else "y"):
            mutated = text[:i] + repl + text[i + 1 :]
            try:
                record = json.loads(mutated)
            except ValueError:
                continue
            if record == entry["record"]:
                continue
            b = copy.deepcopy(bundle)
            b["records"][4]["record"] = record
            assert vb.verify(b, ledger.public), (i, mutated)
            changed += 1
    assert changed > 200


def test_adding_or_removing_a_record_key_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["records"][2]["record"]["extra"] = 1
    assert_fails(vb.verify(b, ledger.public), where(b["records"][2]) + ": keys: ")
    b = copy.deepcopy(bundle)
    del b["records"][2]["record"]["time"]
    assert_fails(vb.verify(b, ledger.public), where(b["records"][2]) + ": keys: ")


def test_record_type_confusions_fail(ledger: Ledger, bundle: dict[str, Any]) -> None:
    for field, value, check in [
        ("format", True, "format"),
        ("format", 1.0, "format"),
        ("format", 2, "format"),
        ("seq", "3", "seq"),
        ("position", -1, "position"),
        ("subject", OTHERS[0], "subject"),
        ("recorded_us", "1714550400000004", "fields"),
        ("id", 4, "fields"),
    ]:
        b = copy.deepcopy(bundle)
        b["records"][2]["record"][field] = value
        fails = vb.verify(b, ledger.public)
        assert any(f": {check}: " in f for f in fails), (field, value, fails)


def test_records_outside_the_canonical_domain_fail(ledger: Ledger, bundle: dict[str, Any]) -> None:
    for data in [
        {"amount": 12.5},
        {"n": 2**53},
        {"\U0001f600": "astral key"},
        {"s": "lone \ud800"},
    ]:
        b = copy.deepcopy(bundle)
        b["records"][0]["record"]["data"] = data
        assert_fails(vb.verify(b, ledger.public), where(b["records"][0]) + ": canonical: ")


def test_wrong_hash_or_inclusion_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["records"][3]["hash"] = "f" * 64
    fails = vb.verify(b, ledger.public)
    assert_fails(fails, where(b["records"][3]) + ": hash: ")
    b = copy.deepcopy(bundle)
    proof = b["records"][3]["inclusion"]
    proof[1] = ("0" if proof[1][0] != "0" else "1") + proof[1][1:]
    assert_fails(vb.verify(b, ledger.public), where(b["records"][3]) + ": inclusion: ")
    b = copy.deepcopy(bundle)
    b["records"][3]["inclusion"].pop()
    assert_fails(vb.verify(b, ledger.public), where(b["records"][3]) + ": inclusion: ")
    b = copy.deepcopy(bundle)
    b["records"][3]["inclusion"][0] = b["records"][3]["inclusion"][0].upper()
    assert_fails(vb.verify(b, ledger.public), where(b["records"][3]) + ": inclusion: ")


def test_rewritten_record_with_recomputed_hash_fails_inclusion_and_chain(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    b = copy.deepcopy(bundle)
    r = b["records"][5]["record"]
    r["data"]["amount"] = "0.01"
    b["records"][5]["hash"] = record_hash(canonical(r))
    fails = vb.verify(b, ledger.public)
    assert_fails(
        fails, where(b["records"][5]) + ": inclusion: ", where(b["records"][6]) + ": prev: "
    )


def test_dropping_a_record_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    for i in range(len(bundle["records"]) - 1):
        b = copy.deepcopy(bundle)
        del b["records"][i]
        fails = vb.verify(b, ledger.public)
        assert_fails(fails, where(b["records"][i]) + ": seq: ", where(b["records"][i]) + ": prev: ")


def test_dropping_the_last_records_without_head_goes_unnoticed_but_warns(
    ledger: Ledger,
) -> None:
    """Known limit of AUDIT-FORMAT.md v1 as written: a bundle cut short at the end still
    passes every record check. Without the ``head`` proof the tool can only warn."""
    b = ledger.bundle(head=False)
    del b["records"][-3:]
    fails, warnings = vb._verify(b, ledger.public)
    assert fails == []
    assert any("no head proof" in w for w in warnings)


def test_dropping_the_last_records_fails_with_the_head_proof(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    for cut in (1, 3, len(bundle["records"])):
        b = copy.deepcopy(bundle)
        del b["records"][-cut:]
        assert_fails(vb.verify(b, ledger.public), "head: records: ")


def test_reordering_two_records_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    n = len(bundle["records"])
    for i, j in [(0, 1), (3, 4), (2, 9), (n - 2, n - 1)]:
        b = copy.deepcopy(bundle)
        b["records"][i], b["records"][j] = b["records"][j], b["records"][i]
        fails = vb.verify(b, ledger.public)
        assert_fails(fails, where(b["records"][i]) + ": seq: ", where(b["records"][j]) + ": seq: ")


def test_duplicated_record_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["records"].insert(3, copy.deepcopy(b["records"][2]))
    assert_fails(vb.verify(b, ledger.public), ": seq: ", ": prev: ")


def test_record_of_another_subject_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    other = ledger.bundle(OTHERS[0])
    b = copy.deepcopy(bundle)
    b["records"][1] = other["records"][1]
    assert_fails(vb.verify(b, ledger.public), ": subject: ")


# ---- checkpoint and key ---------------------------------------------------------------------


def test_changing_the_checkpoint_root_or_size_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    root = b["checkpoint"]["root"]
    b["checkpoint"]["root"] = ("0" if root[0] != "0" else "1") + root[1:]
    fails = vb.verify(b, ledger.public)
    assert_fails(fails, "checkpoint: signature: ", where(b["records"][0]) + ": inclusion: ")
    for size in (bundle["checkpoint"]["size"] - 1, bundle["checkpoint"]["size"] + 1, 64):
        b = copy.deepcopy(bundle)
        b["checkpoint"]["size"] = size
        # The signature is what binds the size: an inclusion proof may well verify against
        # a neighbouring size with the same path shape (RFC 9162 proofs do not encode it).
        assert_fails(vb.verify(b, ledger.public), "checkpoint: signature: ")


def test_changing_other_checkpoint_fields_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    for field, value in [("origin", "elsewhere"), ("issued_us", 1), ("heads_root", "a" * 64)]:
        b = copy.deepcopy(bundle)
        b["checkpoint"][field] = value
        assert_fails(vb.verify(b, ledger.public), "checkpoint: signature: ")
    b = copy.deepcopy(bundle)
    b["checkpoint"]["note"] = "unsigned"
    assert_fails(vb.verify(b, ledger.public), "checkpoint: keys: ")


def test_checkpoint_with_heads_root_verifies(ledger: Ledger) -> None:
    b = ledger.bundle(head=False)
    body = {k: v for k, v in b["checkpoint"].items() if k != "signature"}
    body["heads_root"] = "ab" * 32
    sig = ledger.key.sign(canonical(body))
    b["checkpoint"] = {**body, "signature": base64.b64encode(sig).decode()}
    assert vb.verify(b, ledger.public) == []


def test_bad_signature_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    sig = bytearray(base64.b64decode(b["checkpoint"]["signature"]))
    sig[10] ^= 1
    b["checkpoint"]["signature"] = base64.b64encode(bytes(sig)).decode()
    fails = vb.verify(b, ledger.public)
    assert fails == ["checkpoint: signature: Ed25519 signature does not verify"]
    b["checkpoint"]["signature"] = "not base64!"
    assert_fails(vb.verify(b, ledger.public), "checkpoint: signature: not base64")


def test_wrong_key_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    stranger = Ed25519PrivateKey.generate()
    stranger_pub = stranger.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    # trusted key differs from the bundle's
    fails = vb.verify(bundle, stranger_pub)
    assert_fails(fails, "bundle: public_key: differs", "checkpoint: signature: ")
    # a forger re-signs with their own key and puts it in the bundle: only the trusted key
    # exposes it
    b = copy.deepcopy(bundle)
    b["checkpoint"] = ledger.checkpoint(b["checkpoint"]["size"], key=stranger)
    b["public_key"] = base64.b64encode(stranger_pub).decode()
    assert vb.verify(b) == []
    assert_fails(vb.verify(b, ledger.public), "bundle: public_key: differs", "signature")
    # bundle key replaced but checkpoint signed by the ledger
    b = copy.deepcopy(bundle)
    b["public_key"] = base64.b64encode(stranger_pub).decode()
    assert_fails(vb.verify(b), "checkpoint: signature: ")


def test_bundle_level_problems(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["format"] = "credit-ledger-audit/2"
    assert_fails(vb.verify(b, ledger.public), "bundle: format: ")
    b = copy.deepcopy(bundle)
    b["public_key"] = "AAAA"
    assert_fails(vb.verify(b, ledger.public), "bundle: public_key: ")
    for key in ("subject", "checkpoint", "records", "public_key", "format"):
        b = copy.deepcopy(bundle)
        del b[key]
        assert_fails(vb.verify(b, ledger.public), f"bundle: structure: missing key '{key}'")
    for junk in [None, [], "x", 3, {"records": "x"}, {"records": [None, 3, {"record": []}]}]:
        assert vb.verify(junk, ledger.public)
    b = copy.deepcopy(bundle)
    b["checkpoint"] = {"size": "7"}
    assert_fails(vb.verify(b, ledger.public), "checkpoint: ", ": inclusion: cannot check")


def test_verify_never_raises_on_garbage(ledger: Ledger, bundle: dict[str, Any]) -> None:
    rng = random.Random(1)
    junk: list[Any] = [None, True, -1, 2**80, 1.5, "", "zz", [], {}, [None], {"a": 1}]
    paths = _leaves(bundle)
    for _ in range(400):
        b = copy.deepcopy(bundle)
        path = rng.choice(paths)
        cut = rng.randint(1, len(path))
        _set(b, path[:cut], rng.choice(junk))
        assert isinstance(vb.verify(b, ledger.public), list)


# ---- earlier checkpoint and consistency -----------------------------------------------------


def test_consistency_with_an_earlier_checkpoint(ledger: Ledger, bundle: dict[str, Any]) -> None:
    new = bundle["checkpoint"]["size"]
    for old in (0, 1, 13, 32, new):
        earlier = ledger.checkpoint(old)
        proof = [p.hex() for p in merkle.consistency_proof(old, new, ledger.node)]
        cons = {"from": old, "to": new, "proof": proof}
        assert vb.verify(bundle, ledger.public, earlier_checkpoint=earlier, consistency=cons) == []
    earlier = ledger.checkpoint(13)
    proof = [p.hex() for p in merkle.consistency_proof(13, new, ledger.node)]
    good = {"from": 13, "to": new, "proof": proof}

    bad = copy.deepcopy(good)
    bad["proof"][0] = "0" * 64
    fails = vb.verify(bundle, ledger.public, earlier_checkpoint=earlier, consistency=bad)
    assert_fails(fails, "consistency: proof: ")

    bad = {**good, "from": 12}
    fails = vb.verify(bundle, ledger.public, earlier_checkpoint=earlier, consistency=bad)
    assert_fails(fails, "consistency: from: ")

    bad = {**good, "to": new - 1}
    fails = vb.verify(bundle, ledger.public, earlier_checkpoint=earlier, consistency=bad)
    assert_fails(fails, "consistency: to: ")

    forged = {**earlier, "root": "1" * 64}
    fails = vb.verify(bundle, ledger.public, earlier_checkpoint=forged, consistency=good)
    assert_fails(fails, "earlier checkpoint: signature: ", "consistency: proof: ")

    other_origin = ledger.checkpoint(13)
    other_origin["origin"] = "x"
    fails = vb.verify(bundle, ledger.public, earlier_checkpoint=other_origin, consistency=good)
    assert_fails(fails, "earlier checkpoint: origin: ")

    fails = vb.verify(bundle, ledger.public, earlier_checkpoint=earlier, consistency=None)
    assert_fails(fails, "consistency: structure: ")


# ---- the tree code is independent and agrees with ledger.merkle ---------------------------


def test_tool_tree_code_agrees_with_ledger_merkle() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(33)]
    created, _ = merkle.append(0, {}, leaves)
    nodes = {(lvl, idx): h for lvl, idx, h in created}

    def node(level: int, index: int) -> bytes:
        return nodes[(level, index)]

    roots = [merkle.root(leaves[:n]) for n in range(34)]
    for n in range(1, 34):
        for m in range(n):
            p = merkle.inclusion_proof(m, n, node)
            assert vb.verify_inclusion(m, n, leaves[m], p, roots[n])
            assert not vb.verify_inclusion(m, n, leaves[(m + 1) % n], p, roots[n]) or n == 1
        for m in range(0, n + 1):
            p = merkle.consistency_proof(m, n, node)
            assert vb.verify_consistency(m, n, roots[m], roots[n], p)
            if p:
                assert not vb.verify_consistency(m, n, roots[m], roots[n], p[:-1])


def test_tool_imports_only_stdlib_and_cryptography() -> None:
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            modules.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"cryptography"}
    assert modules <= allowed, modules - allowed
    assert "ledger" not in modules


# ---- command line ---------------------------------------------------------------------------


def _write(path: Path, obj: Any) -> str:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_cli_subprocess(ledger: Ledger, bundle: dict[str, Any], tmp_path: Path) -> None:
    good = _write(tmp_path / "bundle.json", bundle)
    key_b64 = base64.b64encode(ledger.public).decode()
    res = subprocess.run(
        [sys.executable, str(TOOL), good, "--public-key", key_b64],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout == f"OK: {SUBJECT}, 15 records, checkpoint size 45{HEAD_OK}\n"
    assert res.stderr == ""

    b = copy.deepcopy(bundle)
    b["records"][2]["record"]["data"]["amount"] = "1.00"
    bad = _write(tmp_path / "bad.json", b)
    res = subprocess.run(
        [sys.executable, str(TOOL), bad, "--public-key", key_b64],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert res.returncode == 1
    assert res.stdout.startswith(f"FAIL: {where(b['records'][2])}: hash: ")


def test_cli_in_process(
    ledger: Ledger, bundle: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path / "bundle.json", bundle)
    key_b64 = base64.b64encode(ledger.public).decode()

    assert vb.main([good]) == 0
    out, err = capsys.readouterr()
    assert out == f"OK: {SUBJECT}, 15 records, checkpoint size 45{HEAD_OK}\n"
    assert "WARNING: no trusted public key" in err

    # key as a file: base64 text, raw bytes, PEM
    (tmp_path / "key.b64").write_text(key_b64 + "\n")
    (tmp_path / "key.raw").write_bytes(ledger.public)
    (tmp_path / "key.pem").write_bytes(
        ledger.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for name in ("key.b64", "key.raw", "key.pem"):
        assert vb.main([good, "--public-key", str(tmp_path / name)]) == 0, name
        out, err = capsys.readouterr()
        assert out.startswith("OK: ") and err == ""

    # earlier checkpoint + consistency
    earlier = _write(tmp_path / "cp.json", ledger.checkpoint(20))
    proof = [p.hex() for p in merkle.consistency_proof(20, 45, ledger.node)]
    cons = _write(tmp_path / "cons.json", {"from": 20, "to": 45, "proof": proof})
    args = [good, "--public-key", key_b64, "--earlier-checkpoint", earlier]
    assert vb.main([*args, "--consistency", cons]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [
        f"OK: {SUBJECT}, 15 records, checkpoint size 45{HEAD_OK}",
        "OK: consistent with earlier checkpoint size 20",
    ]
    bad_cons = _write(tmp_path / "bad_cons.json", {"from": 20, "to": 45, "proof": proof[:-1]})
    assert vb.main([*args, "--consistency", bad_cons]) == 1
    out, _ = capsys.readouterr()
    assert out.startswith("FAIL: consistency: proof: ")

    # failures: one line per failure, naming record and check
    b = copy.deepcopy(bundle)
    del b["records"][1]
    dropped = _write(tmp_path / "dropped.json", b)
    assert vb.main([dropped, "--public-key", key_b64]) == 1
    out, _ = capsys.readouterr()
    assert f"FAIL: {where(b['records'][1])}: seq: expected 2, got 3" in out
    assert all(line.startswith("FAIL: ") for line in out.splitlines())

    # strict JSON: duplicate keys, NaN, invalid UTF-8 are failures of the bundle
    text = json.dumps(bundle)
    for i, broken in enumerate(
        [
            text.replace('"format": "credit-ledger-audit/1"', '"format": 1, "format": 2', 1),
            text.replace('"amount": ', '"amount": NaN, "x": ', 1),
        ]
    ):
        p = tmp_path / f"broken{i}.json"
        p.write_text(broken)
        assert vb.main([str(p), "--public-key", key_b64]) == 1
        out, _ = capsys.readouterr()
        assert out.startswith("FAIL: bundle: not valid JSON"), out
    (tmp_path / "latin1.json").write_bytes(b'{"subject": "\xe9"}')
    assert vb.main([str(tmp_path / "latin1.json")]) == 1
    capsys.readouterr()


def test_cli_usage_errors(
    bundle: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path / "bundle.json", bundle)
    with pytest.raises(SystemExit) as exc:
        vb.main([])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        vb.main([good, "--earlier-checkpoint", good])
    assert exc.value.code == 2
    assert vb.main([str(tmp_path / "missing.json")]) == 2
    assert vb.main([good, "--public-key", "not-a-key"]) == 2
    assert vb.main([good, "--public-key", base64.b64encode(b"x" * 31).decode()]) == 2
    (tmp_path / "bad.pem").write_text(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    )
    assert vb.main([good, "--public-key", str(tmp_path / "bad.pem")]) == 2
    _, err = capsys.readouterr()
    assert "usage error" in err


# ---- the head proof (docs/audit-format-v1-additions.md) -----------------------------------

ABSENT = "91440300MA5FFFFF0X"  # sorts between the toy's subjects; never recorded


def test_head_verifies_at_every_size_for_every_subject(ledger: Ledger) -> None:
    absent = ABSENT
    for size in range(0, len(ledger.records) + 1):
        for subject in (SUBJECT, *OTHERS, absent, "00000000000000000A", "ZZZZZZZZZZZZZZZZZZ"):
            b = ledger.bundle(subject, size)
            assert vb.verify(b, ledger.public) == [], (size, subject)
            if not b["records"]:
                assert b["head"]["leaf"] is None


def test_absent_subject_ok_line(ledger: Ledger, tmp_path: Path) -> None:
    path = _write(tmp_path / "absent.json", ledger.bundle(ABSENT))
    res = subprocess.run(
        [sys.executable, str(TOOL), path, "--public-key", base64.b64encode(ledger.public).decode()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout
    assert (
        res.stdout
        == f"OK: {ABSENT}, 0 records, checkpoint size 45, no records at the checkpoint (head proof)\n"
    )


def test_hiding_all_records_behind_an_absent_head_fails(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    b = copy.deepcopy(bundle)
    b["records"] = []
    head = b["head"]
    b["head"] = {**head, "leaf": None, "inclusion": [], "next": head["next"]}
    fails = vb.verify(b, ledger.public)
    assert_fails(fails, "head next: ")  # next would have to sort right after the subject


def test_tampered_head_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    def mutated(edit: Any) -> list[str]:
        b = copy.deepcopy(bundle)
        edit(b["head"])
        return vb.verify(b, ledger.public)

    def set_path(*path: Any) -> Any:
        def edit(head: dict[str, Any]) -> None:
            _set(head, path[:-1], path[-1])

        return edit

    cases: list[tuple[Any, str]] = [
        (set_path("leaf", "seq", 14), "head: "),
        (set_path("leaf", "hash", "0" * 64), "head: "),
        (set_path("leaf", "subject", OTHERS[0]), "head: "),
        (set_path("index", bundle["head"]["index"] + 1), "head"),
        (set_path("count", bundle["head"]["count"] - 1), "head"),
        (set_path("inclusion", 0, "1" * 64), "head: inclusion: "),
        (set_path("inclusion", []), "head: inclusion: "),
        (set_path("previous", None), "head previous: missing"),
        (set_path("next", None), "head next: missing"),
        (set_path("previous", "leaf", "subject", SUBJECT), "head previous: "),
        (set_path("previous", "index", 5), "head previous: index: "),
        (set_path("next", "leaf", "seq", 99), "head next: inclusion: "),
        (set_path("leaf", "extra", 1), "head: leaf: "),
        (set_path("leaf", None), "head"),
        (set_path("count", "3"), "head: count: "),
        (set_path("index", -1), "head: index: "),
        (set_path("index", 99), "head: index: "),
    ]
    for edit, needle in cases:
        assert_fails(mutated(edit), needle)


def test_neighbours_swapped_fail(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["head"]["previous"], b["head"]["next"] = b["head"]["next"], b["head"]["previous"]
    assert_fails(vb.verify(b, ledger.public), "head previous: ", "head next: ")


def test_head_of_another_subject_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["head"] = ledger.bundle(OTHERS[0])["head"]
    assert_fails(vb.verify(b, ledger.public), "head: subject: ", "head: records: ")


def test_head_needs_a_signed_heads_root(ledger: Ledger, bundle: dict[str, Any]) -> None:
    b = copy.deepcopy(bundle)
    b["checkpoint"] = ledger.checkpoint(45, heads=False)
    assert_fails(vb.verify(b, ledger.public), "head: heads_root: ")
    b = copy.deepcopy(bundle)
    b["checkpoint"]["heads_root"] = "ab" * 32  # unsigned change: signature and proofs fail
    assert_fails(vb.verify(b, ledger.public), "checkpoint: signature: ", "head: inclusion: ")


def test_head_of_an_older_checkpoint_fails(ledger: Ledger, bundle: dict[str, Any]) -> None:
    """A head proven in an earlier heads tree does not prove into this checkpoint's."""
    b = copy.deepcopy(bundle)
    b["head"] = ledger.head(SUBJECT, 30)
    assert_fails(vb.verify(b, ledger.public), "head")


def test_head_garbage_never_raises(ledger: Ledger, bundle: dict[str, Any]) -> None:
    rng = random.Random(3)
    junk: list[Any] = [None, True, -1, 2**80, 1.5, "", "zz", [], {}, [None], {"a": 1}]
    paths = [("head", *p) for p in _leaves(bundle["head"])] + [("head",)]
    for _ in range(400):
        b = copy.deepcopy(bundle)
        path = rng.choice(paths)
        _set(b, path[: rng.randint(1, len(path))], rng.choice(junk))
        assert isinstance(vb.verify(b, ledger.public), list)
