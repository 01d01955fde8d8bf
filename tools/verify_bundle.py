#!/usr/bin/env python3
"""Verify a credit-ledger audit bundle offline, from AUDIT-FORMAT.md (version 1) alone.

Usage::

    python verify_bundle.py BUNDLE.json [--public-key BASE64_OR_FILE]
                            [--earlier-checkpoint CP.json --consistency PROOF.json]
                            [--witness-key BASE64_OR_FILE ... [--witnesses K]]

This file is deliberately self-contained: it needs only the Python standard library and the
``cryptography`` package (for Ed25519), and it does NOT import the ledger's own code. Its
Merkle tree verification repeats ``ledger/merkle.py`` on purpose — an independent reading of
the same published format is the point of an outside verifier.

What it checks (AUDIT-FORMAT.md, "The bundle"):

* the bundle's ``format`` is ``credit-ledger-audit/1``;
* every record has exactly the keys of the format's table, ``format`` 1, and the bundle's
  ``subject``;
* every ``hash`` is ``hex(SHA-256(canon(record)))`` with ``canon`` =
  ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` in UTF-8; a record
  holding a float, an integer beyond ±(2**53 − 1), or an object key with a character above
  U+FFFF is refused, because for those JCS (RFC 8785) and that serialisation may disagree;
* ``seq`` runs 1..k without gaps, in order;
* every ``prev`` is the hash of the record before (64 zeros for ``seq`` 1);
* every inclusion proof of leaf ``H(0x00 ‖ hash bytes)`` at ``position`` in the tree of
  ``checkpoint.size`` leaves against ``checkpoint.root`` (RFC 9162 §2.1.3.2);
* the checkpoint's Ed25519 signature over ``canon(checkpoint without "signature")``;
* the optional ``head`` (docs/audit-format-v1-additions.md, "Head proof"): the subject's
  head leaf ``{"subject", "seq", "hash"}`` and its sorted neighbours are in the tree of
  ``head.count`` leaves whose root is ``checkpoint.heads_root`` (leaf hash
  ``H(0x00 ‖ canon(leaf))``), the neighbours sort strictly before and after the subject at
  the adjacent indexes, and the head's ``seq``/``hash`` are the bundle's last record's (or,
  with ``leaf`` null, the subject had no record and the bundle has none). Without ``head``
  a bundle cut short at the end cannot be detected: a warning says so.

The signature is checked with the bundle's ``public_key``; a bundle's own key proves nothing
on its own, so pass the ledger's published key with ``--public-key`` (it must then equal the
bundle's). Optionally an earlier signed checkpoint and a consistency proof
(``{"from": m, "to": n, "proof": [hex, ...]}``) show the bundle's checkpoint extends it
(RFC 9162 §2.1.4.2).

Witness cosignatures (AUDIT-FORMAT.md "Witness cosignature", Clarifications "Cosignatures"):
a bundle may carry ``cosignatures``, a list of ``{"witness", "origin", "size", "root",
"heads_root"?, "cosigned_us", "signature"}`` beside the ledger's signature. Given witnesses'
public keys (``--witness-key``, repeat), a cosignature counts for a key when it names exactly
the bundle checkpoint's tree (origin, size, root, heads_root) and its Ed25519 signature over
``canon(cosignature without "signature")`` verifies under that key; each key counts once.
``--witnesses K`` (default 1 when keys are given) fails the bundle unless K of the given keys
cosigned it. Without keys, cosignatures are not checked (a warning says how many there are).

Subject codes are ASCII, so "sorts before" is plain string (code point) order.

Output: ``OK: <subject>, <k> records, checkpoint size <n>`` (plus ``, last seq <k> is the
subject's head (head proof)`` when the bundle has a head) and exit status 0; or one line
``FAIL: <where>: <check>: <detail>`` per failure (``<where>`` is e.g. ``record seq=3
position=17``) and exit status 1; a usage error exits with status 2. Warnings go to stderr.

As a library: ``verify(bundle_dict, public_key_bytes_or_None) -> list[str]`` (empty = OK).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

if TYPE_CHECKING:  # keeps the tool importable on Python 3.9
    from typing import TypeGuard

BUNDLE_FORMAT = "credit-ledger-audit/1"
BUNDLE_KEYS = ("format", "subject", "public_key", "checkpoint", "records")
BUNDLE_OPTIONAL = ("head", "cosignatures")
COSIGNATURE_KEYS = frozenset({"witness", "origin", "size", "root", "cosigned_us", "signature"})
COSIGNED_TREE = ("origin", "size", "root", "heads_root")
HEAD_KEYS = frozenset({"leaf", "index", "count", "inclusion", "previous", "next"})
NEIGHBOUR_KEYS = frozenset({"leaf", "index", "inclusion"})
LEAF_KEYS = frozenset({"subject", "seq", "hash"})
RECORD_KEYS = frozenset(
    {
        "format",
        "subject",
        "seq",
        "position",
        "id",
        "source",
        "type",
        "time",
        "recorded_us",
        "data",
        "prev",
    }
)
ENTRY_KEYS = frozenset({"record", "hash", "inclusion"})
CHECKPOINT_REQUIRED = frozenset({"origin", "size", "root", "issued_us", "signature"})
CHECKPOINT_OPTIONAL = frozenset({"heads_root"})
ZERO_HASH = "0" * 64
MAX_SAFE_INT = 2**53 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


# ---- canonical bytes ----------------------------------------------------------------------------


def canon(value: Any) -> bytes:
    """AUDIT-FORMAT.md canon(x) for float-free values: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def canon_problem(value: Any, path: str = "") -> str | None:
    """Why ``value`` has no unambiguous canonical form, or None if it has one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{path or 'value'}: string is not valid Unicode (lone surrogate)"
        return None
    if isinstance(value, int):
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return None
        return f"{path or 'value'}: integer {value} is beyond ±(2**53 - 1)"
    if isinstance(value, float):
        return f"{path or 'value'}: floating-point number {value!r}"
    if isinstance(value, list):
        for i, item in enumerate(value):
            problem = canon_problem(item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path or 'value'}: object key {key!r} is not a string"
            if _ASTRAL.search(key):
                return f"{path or 'value'}: object key {key!r} has a character above U+FFFF"
            problem = canon_problem(key, f"{path}.<key>") or canon_problem(item, f"{path}.{key}")
            if problem:
                return problem
        return None
    return f"{path or 'value'}: {type(value).__name__} is not a JSON value"


# ---- RFC 6962 / RFC 9162 Merkle tree --------------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def merkle_leaf(data: bytes) -> bytes:
    """H(0x00 ‖ data)."""
    return _h(b"\x00" + data)


def _children(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def _is_hash(x: Any) -> bool:
    return isinstance(x, bytes) and len(x) == 32


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not (type(index) is int and type(size) is int and 0 <= index < size):
        return False
    if not (_is_hash(leaf) and _is_hash(root) and all(_is_hash(p) for p in path)):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _children(p, r)
            while fn != 0 and fn % 2 == 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = _children(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``second`` leaves an extension of that of ``first``?"""
    if not (type(first) is int and type(second) is int and 0 <= first <= second):
        return False
    if not (_is_hash(first_root) and _is_hash(second_root) and all(_is_hash(p) for p in path)):
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path and first_root == _h(b"")
    if not path:
        return False
    path = list(path)
    if (first & (first - 1)) == 0:  # first is a power of two: its root is in the path
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _children(c, fr), _children(c, sr)
            while fn != 0 and fn % 2 == 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = _children(sr, c)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and fr == first_root and sr == second_root


# ---- pieces --------------------------------------------------------------------------------


def _is_int(x: Any) -> TypeGuard[int]:
    return type(x) is int


def _hex_list(x: Any) -> list[bytes] | None:
    if not isinstance(x, list) or not all(isinstance(h, str) and _HEX64.match(h) for h in x):
        return None
    return [bytes.fromhex(h) for h in x]


def _b64(x: Any, length: int) -> bytes | None:
    if not isinstance(x, str):
        return None
    try:
        raw = base64.b64decode(x.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return raw if len(raw) == length else None


def _check_checkpoint(cp: Any, where: str, key: bytes | None) -> list[str]:
    """Structure and signature of a checkpoint; ``key`` None means 'cannot check signature'."""
    if not isinstance(cp, dict):
        return [f"{where}: structure: not a JSON object"]
    fails: list[str] = []
    missing = sorted(CHECKPOINT_REQUIRED - cp.keys())
    extra = sorted(cp.keys() - CHECKPOINT_REQUIRED - CHECKPOINT_OPTIONAL)
    if missing or extra:
        fails.append(f"{where}: keys: missing {missing}, unexpected {extra}")
    if not isinstance(cp.get("origin"), str):
        fails.append(f"{where}: origin: not a string")
    size = cp.get("size")
    if not (_is_int(size) and 0 <= size <= MAX_SAFE_INT):
        fails.append(f"{where}: size: not a non-negative integer: {size!r}")
    if not (isinstance(cp.get("root"), str) and _HEX64.match(cp["root"])):
        fails.append(f"{where}: root: not 64 lowercase hex digits")
    if not (_is_int(cp.get("issued_us")) and abs(cp["issued_us"]) <= MAX_SAFE_INT):
        fails.append(f"{where}: issued_us: not an integer")
    if "heads_root" in cp and not (
        isinstance(cp["heads_root"], str) and _HEX64.match(cp["heads_root"])
    ):
        fails.append(f"{where}: heads_root: not 64 lowercase hex digits")
    body = {k: v for k, v in cp.items() if k != "signature"}
    problem = canon_problem(body)
    if problem:
        fails.append(f"{where}: canonical: {problem}")
    sig = _b64(cp.get("signature"), 64)
    if sig is None:
        fails.append(f"{where}: signature: not base64 of 64 bytes")
    elif key is not None and not problem:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(sig, canon(body))
        except InvalidSignature:
            fails.append(f"{where}: signature: Ed25519 signature does not verify")
    return fails


def _where(record: dict[str, Any]) -> str:
    def show(x: Any) -> str:
        return str(x) if _is_int(x) else "?" if x is None else repr(x)

    return f"record seq={show(record.get('seq'))} position={show(record.get('position'))}"


def _check_records(
    records: list[Any], subject: Any, size: int | None, root: bytes | None
) -> list[str]:
    fails: list[str] = []
    prev_hash: str | None = ZERO_HASH
    prev_seq = 0
    for i, entry in enumerate(records):
        expected_seq = prev_seq + 1  # so that one gap is reported once, not on every later record
        prev_seq = expected_seq
        record = entry.get("record") if isinstance(entry, dict) else None
        where = _where(record) if isinstance(record, dict) else f"record #{expected_seq}"

        def fail(check: str, detail: str, where: str = where) -> None:
            fails.append(f"{where}: {check}: {detail}")

        if not isinstance(entry, dict) or not isinstance(record, dict):
            fail("structure", 'entry is not an object with a "record" object')
            prev_hash = None
            continue
        if entry.keys() != ENTRY_KEYS:
            fail("structure", f"entry keys {sorted(entry)} != {sorted(ENTRY_KEYS)}")
        if record.keys() != RECORD_KEYS:
            fail(
                "keys",
                f"missing {sorted(RECORD_KEYS - record.keys())}, "
                f"unexpected {sorted(record.keys() - RECORD_KEYS)}",
            )
        if not (_is_int(record.get("format")) and record["format"] == 1):
            fail("format", f"expected 1, got {record.get('format')!r}")
        if record.get("subject") != subject:
            fail("subject", f"{record.get('subject')!r} is not the bundle's {subject!r}")
        seq = record.get("seq")
        if not (_is_int(seq) and seq == expected_seq):
            fail(
                "seq",
                f"expected {expected_seq}, got {seq!r} "
                "(records must run 1..k in order, without gaps)",
            )
            if _is_int(seq):
                prev_seq = seq  # resynchronise
        for name in ("id", "source", "type", "time"):
            if not isinstance(record.get(name), str):
                fail("fields", f"{name} is not a string")
        if not _is_int(record.get("recorded_us")):
            fail("fields", "recorded_us is not an integer")
        position = record.get("position")
        if not (_is_int(position) and position >= 0):
            fail("position", f"not a non-negative integer: {position!r}")
            position = None

        # hash
        computed: str | None = None
        problem = canon_problem(record)
        if problem:
            fail("canonical", problem)
        else:
            computed = hashlib.sha256(canon(record)).hexdigest()
        claimed = entry.get("hash")
        if not (isinstance(claimed, str) and _HEX64.match(claimed)):
            fail("hash", "not 64 lowercase hex digits")
            claimed = None
        elif computed is not None and claimed != computed:
            fail("hash", f"bundle says {claimed}, SHA-256 of the canonical record is {computed}")
        this_hash = computed or claimed

        # prev
        prev = record.get("prev")
        if i == 0:
            if prev != ZERO_HASH:
                fail("prev", f"seq 1 must have prev of 64 zeros, got {prev!r}")
        elif prev_hash is None:
            fail("prev", "cannot check: the previous record is unreadable")
        elif prev != prev_hash:
            fail("prev", f"{prev!r} is not the previous record's hash {prev_hash}")
        prev_hash = this_hash

        # inclusion
        proof = _hex_list(entry.get("inclusion"))
        if proof is None:
            fail("inclusion", "not a list of 64-hex-digit hashes")
        elif size is None or root is None:
            fail("inclusion", "cannot check: the checkpoint has no valid size/root")
        elif position is None or this_hash is None:
            fail("inclusion", "cannot check: no valid position/hash")
        elif position >= size:
            fail("inclusion", f"position {position} is not below checkpoint size {size}")
        elif not verify_inclusion(
            position, size, merkle_leaf(bytes.fromhex(this_hash)), proof, root
        ):
            fail("inclusion", f"proof does not lead to checkpoint root (tree size {size})")
    return fails


# ---- the subject's head ---------------------------------------------------------------------


def _leaf_problem(leaf: Any) -> str | None:
    if not isinstance(leaf, dict) or leaf.keys() != LEAF_KEYS:
        return f"leaf must be an object with exactly the keys {sorted(LEAF_KEYS)}"
    if not (isinstance(leaf["subject"], str) and leaf["subject"]):
        return "leaf subject is not a non-empty string"
    if not (_is_int(leaf["seq"]) and 1 <= leaf["seq"] <= MAX_SAFE_INT):
        return f"leaf seq is not a positive integer: {leaf['seq']!r}"
    if not (isinstance(leaf["hash"], str) and _HEX64.match(leaf["hash"])):
        return "leaf hash is not 64 lowercase hex digits"
    return canon_problem(leaf)


def _check_head_leaf(
    part: Any,
    where: str,
    keys: frozenset[str],
    index: int,
    count: int,
    heads_root: bytes | None,
) -> tuple[list[str], str | None]:
    """One proven leaf of the heads tree at ``index``: (failures, its subject if readable)."""
    if not isinstance(part, dict) or part.keys() != keys:
        return [f"{where}: structure: expected an object with the keys {sorted(keys)}"], None
    fails: list[str] = []
    if part["index"] != index or not _is_int(part["index"]):
        fails.append(f"{where}: index: expected {index}, got {part['index']!r}")
    problem = _leaf_problem(part["leaf"])
    if problem:
        return [*fails, f"{where}: leaf: {problem}"], None
    leaf = part["leaf"]
    proof = _hex_list(part["inclusion"])
    if proof is None:
        fails.append(f"{where}: inclusion: not a list of 64-hex-digit hashes")
    elif heads_root is not None and not verify_inclusion(
        index, count, merkle_leaf(canon(leaf)), proof, heads_root
    ):
        fails.append(
            f"{where}: inclusion: proof does not lead to checkpoint heads_root "
            f"(leaf {index} of {count})"
        )
    return fails, leaf["subject"]


def _check_head(
    head: Any, subject: Any, heads_root: bytes | None, records: list[Any] | None
) -> list[str]:
    """The optional ``head``: the subject's head (or absence) in ``checkpoint.heads_root``
    with its sorted neighbours, and the bundle's last record being that head."""
    if not isinstance(head, dict) or head.keys() != HEAD_KEYS:
        return [f"head: structure: expected an object with the keys {sorted(HEAD_KEYS)}"]
    fails: list[str] = []
    if heads_root is None:
        fails.append("head: heads_root: the checkpoint carries no valid heads_root to check it")
    count, index = head["count"], head["index"]
    if not (_is_int(count) and 0 <= count <= MAX_SAFE_INT):
        return [*fails, f"head: count: not a non-negative integer: {count!r}"]
    present = head["leaf"] is not None
    if not (_is_int(index) and 0 <= index <= count - (1 if present else 0)):
        return [*fails, f"head: index: {index!r} is not a leaf position in a tree of {count}"]
    if not isinstance(subject, str):
        return fails

    if present:
        part = {"leaf": head["leaf"], "index": index, "inclusion": head["inclusion"]}
        more, leaf_subject = _check_head_leaf(
            part, "head", NEIGHBOUR_KEYS, index, count, heads_root
        )
        fails += more
        if leaf_subject is not None and leaf_subject != subject:
            fails.append(f"head: subject: the leaf is {leaf_subject!r}, not {subject!r}")
    elif head["inclusion"] != []:
        fails.append("head: inclusion: must be [] when leaf is null")

    # neighbours: previous at index - 1, next at the index after the subject's place
    after = index + 1 if present else index
    for name, part, at, exists in (
        ("previous", head["previous"], index - 1, index > 0),
        ("next", head["next"], after, after < count),
    ):
        where = f"head {name}"
        if part is None:
            if exists:
                fails.append(f"{where}: missing: leaf {at} exists and must be shown")
            continue
        if not exists:
            fails.append(f"{where}: unexpected: there is no leaf {at} in a tree of {count}")
            continue
        more, other = _check_head_leaf(part, where, NEIGHBOUR_KEYS, at, count, heads_root)
        fails += more
        if other is None:
            continue
        if name == "previous" and not other < subject:
            fails.append(f"{where}: order: {other!r} does not sort before {subject!r}")
        if name == "next" and not subject < other:
            fails.append(f"{where}: order: {other!r} does not sort after {subject!r}")

    # the bundle's records end at the head
    if records is None:
        return fails
    last = records[-1] if records else None
    last_record = last.get("record") if isinstance(last, dict) else None
    if not present:
        if records:
            fails.append(
                "head: records: the heads tree shows the subject had no record at the "
                f"checkpoint, but the bundle has {len(records)}"
            )
    elif isinstance(head["leaf"], dict):
        leaf = head["leaf"]
        if last is None:
            fails.append(
                f"head: records: the subject's head is seq {leaf.get('seq')!r} but the bundle "
                "has no records (records were removed)"
            )
        elif not isinstance(last_record, dict):
            fails.append("head: records: the last record is unreadable")
        elif last_record.get("seq") != leaf.get("seq") or last.get("hash") != leaf.get("hash"):
            fails.append(
                f"head: records: the bundle ends at seq {last_record.get('seq')!r} "
                f"(hash {last.get('hash')!r}) but the subject's head at the checkpoint is seq "
                f"{leaf.get('seq')!r} (hash {leaf.get('hash')!r}): records were removed from "
                "the end, or the last one was altered"
            )
    return fails


def _cosigned_by(cosignature: Any, checkpoint: Any, key: bytes) -> bool:
    """Does ``cosignature`` name ``checkpoint``'s tree and verify under witness ``key``?"""
    if not isinstance(cosignature, dict) or not isinstance(checkpoint, dict):
        return False
    keys = cosignature.keys()
    if not (COSIGNATURE_KEYS <= keys <= COSIGNATURE_KEYS | {"heads_root"}):
        return False
    if any(cosignature.get(k) != checkpoint.get(k) for k in COSIGNED_TREE):
        return False
    body = {k: v for k, v in cosignature.items() if k != "signature"}
    signature = _b64(cosignature.get("signature"), 64)
    if signature is None or canon_problem(body):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, canon(body))
    except (InvalidSignature, ValueError):
        return False
    return True


def check_cosignatures(
    cosignatures: Any, checkpoint: Any, witness_keys: list[bytes], required: int
) -> tuple[list[str], list[str], int]:
    """(failures, warnings, how many of ``witness_keys`` validly cosigned ``checkpoint``).
    Fails when fewer than ``required`` did; each key counts once."""
    if cosignatures is None:
        cosignatures = []
    if not isinstance(cosignatures, list):
        return ["cosignatures: structure: not a list"], [], 0
    if not witness_keys:
        warnings = (
            [f"{len(cosignatures)} witness cosignature(s) not checked (no --witness-key given)"]
            if cosignatures
            else []
        )
        return [], warnings, 0
    signed = {
        i
        for i, key in enumerate(witness_keys)
        if any(_cosigned_by(c, checkpoint, key) for c in cosignatures)
    }
    warnings = []
    unmatched = sum(
        1 for c in cosignatures if not any(_cosigned_by(c, checkpoint, k) for k in witness_keys)
    )
    if unmatched:
        warnings.append(
            f"{unmatched} cosignature(s) not of the given witnesses' keys or not of this "
            "checkpoint: not counted"
        )
    fails = []
    if len(signed) < required:
        fails.append(
            f"cosignatures: only {len(signed)} of the {len(witness_keys)} given witnesses "
            f"cosigned checkpoint size {checkpoint.get('size') if isinstance(checkpoint, dict) else '?'}"
            f", {required} required"
        )
    return fails, warnings, len(signed)


def _verify(
    bundle: Any,
    public_key: bytes | None = None,
    earlier_checkpoint: Any = None,
    consistency: Any = None,
    witness_keys: list[bytes] | None = None,
    witnesses: int = 0,
) -> tuple[list[str], list[str]]:
    """(failures, warnings)."""
    warnings: list[str] = []
    if not isinstance(bundle, dict):
        return ["bundle: structure: not a JSON object"], warnings
    fails: list[str] = []
    for name in BUNDLE_KEYS:
        if name not in bundle:
            fails.append(f"bundle: structure: missing key {name!r}")
    extra = sorted(k for k in bundle if k not in BUNDLE_KEYS and k not in BUNDLE_OPTIONAL)
    if extra:
        warnings.append(f"bundle keys {extra} are not part of the format and were not verified")
    if bundle.get("format") != BUNDLE_FORMAT:
        fails.append(f"bundle: format: expected {BUNDLE_FORMAT!r}, got {bundle.get('format')!r}")
    subject = bundle.get("subject")
    if not isinstance(subject, str) or not subject:
        fails.append("bundle: subject: not a non-empty string")

    bundle_key = _b64(bundle.get("public_key"), 32)
    if bundle_key is None:
        fails.append("bundle: public_key: not base64 of 32 bytes")
    if public_key is not None:
        if bundle_key is not None and bundle_key != public_key:
            fails.append("bundle: public_key: differs from the trusted public key given")
        key: bytes | None = public_key
    else:
        key = bundle_key
        warnings.append(
            "no trusted public key given (--public-key): the signature was checked with the "
            "bundle's own key, which proves nothing about who signed it"
        )
    if key is not None:
        try:
            Ed25519PublicKey.from_public_bytes(key)
        except (ValueError, TypeError):
            fails.append("bundle: public_key: not a valid Ed25519 public key (32 raw bytes)")
            key = None

    cp = bundle.get("checkpoint")
    cp_fails = _check_checkpoint(cp, "checkpoint", key)
    fails += cp_fails
    size: int | None = None
    root: bytes | None = None
    if isinstance(cp, dict):
        if _is_int(cp.get("size")) and cp["size"] >= 0:
            size = cp["size"]
        if isinstance(cp.get("root"), str) and _HEX64.match(cp["root"]):
            root = bytes.fromhex(cp["root"])

    records = bundle.get("records")
    if not isinstance(records, list):
        fails.append("bundle: records: not a list")
    else:
        fails += _check_records(records, subject, size, root)

    if "head" in bundle:
        heads_root = None
        claimed = cp.get("heads_root") if isinstance(cp, dict) else None
        if isinstance(claimed, str) and _HEX64.match(claimed):
            heads_root = bytes.fromhex(claimed)
        fails += _check_head(
            bundle["head"], subject, heads_root, records if isinstance(records, list) else None
        )
    else:
        warnings.append(
            "the bundle has no head proof: records removed from the end of the bundle would "
            "go unnoticed"
        )

    if earlier_checkpoint is not None or consistency is not None:
        fails += _check_earlier(earlier_checkpoint, consistency, key, cp, size, root)
    more, notes, _ = check_cosignatures(
        bundle.get("cosignatures"), cp, witness_keys or [], witnesses
    )
    return fails + more, warnings + notes


def _check_earlier(
    earlier: Any, cons: Any, key: bytes | None, cp: Any, size: int | None, root: bytes | None
) -> list[str]:
    fails = _check_checkpoint(earlier, "earlier checkpoint", key)
    if not isinstance(earlier, dict):
        return fails
    if isinstance(cp, dict) and earlier.get("origin") != cp.get("origin"):
        fails.append("earlier checkpoint: origin: differs from the bundle checkpoint's origin")
    if not isinstance(cons, dict) or cons.keys() != {"from", "to", "proof"}:
        return [*fails, 'consistency: structure: expected {"from": m, "to": n, "proof": [...]}']
    proof = _hex_list(cons.get("proof"))
    if proof is None:
        fails.append("consistency: proof: not a list of 64-hex-digit hashes")
    if cons.get("from") != earlier.get("size") or not _is_int(cons.get("from")):
        fails.append(
            f"consistency: from: {cons.get('from')!r} is not the earlier checkpoint's size "
            f"{earlier.get('size')!r}"
        )
    if cons.get("to") != size or not _is_int(cons.get("to")):
        fails.append(f"consistency: to: {cons.get('to')!r} is not the checkpoint's size {size!r}")
    old_root = earlier.get("root")
    if (
        proof is not None
        and size is not None
        and root is not None
        and isinstance(old_root, str)
        and _HEX64.match(old_root)
        and _is_int(earlier.get("size"))
        and not verify_consistency(earlier["size"], size, bytes.fromhex(old_root), root, proof)
    ):
        fails.append(
            f"consistency: proof: checkpoint size {size} is not shown to extend the earlier "
            f"checkpoint size {earlier['size']}"
        )
    return fails


def verify(
    bundle: Any,
    public_key: bytes | None = None,
    *,
    earlier_checkpoint: Any = None,
    consistency: Any = None,
    witness_keys: list[bytes] | None = None,
    witnesses: int = 0,
) -> list[str]:
    """Verify a parsed bundle; return the failures (an empty list means OK).

    ``public_key`` is the ledger's published raw 32-byte Ed25519 key; if None the bundle's
    own key is used (which proves nothing on its own). ``earlier_checkpoint`` (a signed
    checkpoint object) and ``consistency`` (``{"from": m, "to": n, "proof": [hex, ...]}``)
    are optional and go together. ``witness_keys`` (raw 32-byte keys) and ``witnesses`` (how
    many of them must have cosigned) check the bundle's ``cosignatures``. Never raises for
    malformed bundles.
    """
    return _verify(bundle, public_key, earlier_checkpoint, consistency, witness_keys, witnesses)[0]


# ---- command line ----------------------------------------------------------------------------


class UsageError(Exception):
    """Bad command line or unreadable input file (exit status 2)."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity (raises ValueError)."""
    return json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_reject_duplicates,
        parse_constant=_reject_constant,
    )


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def add_witness_arguments(parser: argparse.ArgumentParser) -> None:
    """``--witness-key`` (repeat) and ``--witnesses K`` (shared with verify_report.py)."""
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        metavar="B64",
        help="a witness's Ed25519 public key (base64 or a file); repeat for each witness",
    )
    parser.add_argument(
        "--witnesses",
        type=int,
        metavar="K",
        help="require K of the given witnesses to have cosigned the checkpoint (default 1 "
        "when --witness-key is given)",
    )


def witness_requirement(args: argparse.Namespace) -> tuple[list[bytes], int]:
    """The witness keys and K of the command line (raises UsageError)."""
    keys = [load_public_key(k, "--witness-key") for k in args.witness_key]
    required = args.witnesses if args.witnesses is not None else (1 if keys else 0)
    if not 0 <= required <= len(keys):
        raise UsageError(f"--witnesses {required}: give at least that many --witness-key")
    return keys, required


def load_public_key(arg: str, option: str = "--public-key") -> bytes:
    """Raw 32-byte key from base64 text, or a file with base64 text, raw bytes or PEM."""
    if os.path.isfile(arg):
        data = _read(arg)
        if data.lstrip().startswith(b"-----BEGIN"):
            try:
                pem_key = serialization.load_pem_public_key(data)
            except ValueError as exc:
                raise UsageError(f"{option}: unreadable PEM: {exc}") from exc
            if not isinstance(pem_key, Ed25519PublicKey):
                raise UsageError(f"{option}: PEM key is not Ed25519")
            return pem_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if len(data) == 32:
            return data
        try:
            text = data.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise UsageError(f"{option}: file is neither base64, PEM nor 32 raw bytes") from exc
    else:
        text = arg.strip()
    raw = _b64(text, 32)
    if raw is None:
        raise UsageError(f"{option}: not base64 of 32 bytes, nor a readable key file")
    return raw


def _load_json_arg(path: str, what: str) -> tuple[Any, str | None]:
    try:
        return parse_json(_read(path)), None
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"{what}: not valid JSON: {exc}"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="verify_bundle.py",
        description="Verify a credit-ledger audit bundle (AUDIT-FORMAT.md, version 1).",
    )
    parser.add_argument("bundle", help="the audit bundle (JSON)")
    parser.add_argument(
        "--public-key",
        help="the ledger's published Ed25519 key: base64 of the raw 32 bytes, or a file",
    )
    parser.add_argument("--earlier-checkpoint", help="an earlier signed checkpoint (JSON)")
    parser.add_argument(
        "--consistency", help='consistency proof JSON {"from": m, "to": n, "proof": [hex...]}'
    )
    add_witness_arguments(parser)
    args = parser.parse_args(argv)
    if (args.earlier_checkpoint is None) != (args.consistency is None):
        parser.error("--earlier-checkpoint and --consistency go together")

    try:
        key = load_public_key(args.public_key) if args.public_key is not None else None
        witness_keys, required = witness_requirement(args)
        bundle, bundle_err = _load_json_arg(args.bundle, "bundle")
        earlier = cons = None
        extra_errs: list[str] = []
        if args.earlier_checkpoint is not None:
            earlier, err = _load_json_arg(args.earlier_checkpoint, "earlier checkpoint")
            extra_errs += [err] if err else []
            cons, err = _load_json_arg(args.consistency, "consistency")
            extra_errs += [err] if err else []
    except UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2

    if bundle_err:
        print(f"FAIL: {bundle_err}")
        return 1
    use_earlier = args.earlier_checkpoint is not None
    fails, warnings = _verify(
        bundle,
        key,
        earlier if use_earlier else None,
        (cons if cons is not None else {}) if use_earlier else None,
        witness_keys,
        required,
    )
    fails = extra_errs + fails
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    if fails:
        for f in fails:
            print(f"FAIL: {f}")
        return 1
    head = bundle.get("head")
    print(
        f"OK: {bundle['subject']}, {len(bundle['records'])} records, "
        f"checkpoint size {bundle['checkpoint']['size']}"
        + (
            ""
            if head is None
            else ", no records at the checkpoint (head proof)"
            if head["leaf"] is None
            else f", last seq {head['leaf']['seq']} is the subject's head (head proof)"
        )
    )
    if isinstance(earlier, dict):
        print(f"OK: consistent with earlier checkpoint size {earlier['size']}")
    if witness_keys:
        cosigned = check_cosignatures(
            bundle.get("cosignatures"), bundle["checkpoint"], witness_keys, required
        )[2]
        print(
            f"OK: cosigned by {cosigned} of {len(witness_keys)} given witnesses "
            f"({required} required)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
