#!/usr/bin/env python3
"""Verify a credit-ledger credit report (信用报告) offline, from AUDIT-FORMAT.md alone.

Usage::

    python verify_report.py REPORT.json|REPORT.pdf --public-key BASE64_OR_FILE
                            [--witness-key BASE64_OR_FILE ... [--witnesses K]]

Standard library plus ``cryptography`` (Ed25519); the ledger's own code is not imported.
The checks of a bundle it shares with ``verify_bundle.py`` (beside it: canonical bytes,
checkpoint signature, RFC 9162 inclusion proofs, the head proof) are that file's.

What it checks (AUDIT-FORMAT.md "Credit report"):

* the report is a JSON object with exactly the keys of ``credit-report/1``;
* its Ed25519 ``signature`` over ``canon(report without "signature")`` with the ledger's
  published key (``--public-key``; without it the bundle's own key, which proves nothing);
* its ``bundle`` is a *redacted* ``credit-ledger-audit/1`` bundle of the report's subject,
  with the same public key, at a checkpoint signed by that key whose ``issued_us`` is not
  before ``known_at``: every entry's inclusion proof of ``hash`` at ``position`` against the
  checkpoint's root; ``seq`` runs 1..k without gaps; every unredacted record's keys, hash and
  ``prev`` (equal to the previous entry's ``hash``, redacted or not); the head proof against
  the last entry (the subject had nothing after it at the checkpoint);
* with witnesses' keys (``--witness-key``, repeat; ``--witnesses K``, default 1): the report's
  optional top-level ``cosignatures`` (beside the ledger's signature, outside what it signs
  and outside the report's SHA-256) hold K valid cosignatures of the bundle checkpoint's tree
  by distinct given witnesses (``verify_bundle.check_cosignatures``);
* every ``(id, source)`` the ``content`` cites (each object with both keys, each
  ``derived_from`` entry) is an unredacted record of the bundle recorded by ``known_at``.

For a PDF, the JSON is read from its embedded file (``credit-report.json``); the report's
SHA-256 (of ``canon(report)``, signature included) is printed to compare with the one the
PDF prints.

Output: ``OK: …`` lines saying what was proved and exit status 0, or one ``FAIL: …`` line per
failure and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import zlib
from datetime import datetime
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import verify_bundle as vb
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

REPORT_FORMAT = "credit-report/1"
REPORT_KEYS = frozenset(
    {
        "format",
        "report_id",
        "subject",
        "name",
        "as_of",
        "known_at",
        "issued_us",
        "content",
        "bundle",
        "signature",
    }
)
REPORT_OPTIONAL = frozenset({"cosignatures"})
"""Beside the ledger's signature: neither signed nor in the report's SHA-256."""
REDACTED_KEYS = frozenset({"redacted", "seq", "position", "hash", "inclusion"})
ATTACHMENT = "credit-report.json"


# ---- reading -------------------------------------------------------------------------------


_STREAM = re.compile(rb"/Type\s*/EmbeddedFile\b(?P<dict>.*?)>>\s*stream\r?\n", re.S)


def embedded_json(pdf: bytes) -> bytes | None:
    """The bytes of the PDF's embedded ``credit-report.json`` (the embedded file whose
    content is a credit-report/1 object), or None. Reads uncompressed and FlateDecode
    embedded-file streams, which is what PDF writers produce for attachments."""
    for found in _STREAM.finditer(pdf):
        start = found.end()
        end = pdf.find(b"endstream", start)
        if end < 0:
            continue
        raw = pdf[start:end].rstrip(b"\r\n")
        length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", found.group("dict"))
        if length is not None:
            raw = pdf[start : start + int(length.group(1))]
        data = raw
        if b"/FlateDecode" in found.group("dict"):
            try:
                data = zlib.decompress(raw)
            except zlib.error:
                continue
        if b'"credit-report/1"' in data:
            return data
    return None


def load_report(path: str) -> tuple[Any, str | None]:
    """(parsed report, error): a JSON file, or the JSON embedded in a PDF."""
    data = vb._read(path)
    if data.startswith(b"%PDF"):
        inner = embedded_json(data)
        if inner is None:
            return None, f"the PDF carries no embedded {ATTACHMENT}"
        data = inner
    try:
        return vb.parse_json(data), None
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"report: not valid JSON: {exc}"


def _instant_us(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    delta = moment - datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# ---- the redacted bundle --------------------------------------------------------------------


def _check_entries(
    records: list[Any], subject: Any, size: int | None, root: bytes | None
) -> tuple[list[str], dict[tuple[str, str], int], int]:
    """(failures, recorded_us of every unredacted record by (id, source), redacted count)."""
    fails: list[str] = []
    shown: dict[tuple[str, str], int] = {}
    redacted = 0
    prev_hash: str | None = vb.ZERO_HASH
    for i, entry in enumerate(records, start=1):
        where = f"entry seq={i}"

        def fail(check: str, detail: str, where: str = where) -> None:
            fails.append(f"{where}: {check}: {detail}")

        if not isinstance(entry, dict):
            fail("structure", "not an object")
            prev_hash = None
            continue
        if entry.get("redacted") is True:
            redacted += 1
            if entry.keys() != REDACTED_KEYS:
                fail("structure", f"redacted entry keys {sorted(entry)} != {sorted(REDACTED_KEYS)}")
            seq, position, this_hash = entry.get("seq"), entry.get("position"), entry.get("hash")
        else:
            record = entry.get("record")
            if entry.keys() != vb.ENTRY_KEYS or not isinstance(record, dict):
                fail("structure", f"entry keys {sorted(entry)} != {sorted(vb.ENTRY_KEYS)}")
                prev_hash = None
                continue
            if record.keys() != vb.RECORD_KEYS:
                fail("keys", f"record keys {sorted(record)} != {sorted(vb.RECORD_KEYS)}")
            if record.get("format") != 1 or record.get("subject") != subject:
                fail("record", "format is not 1 or subject is not the report's")
            seq, position, this_hash = record.get("seq"), record.get("position"), entry.get("hash")
            problem = vb.canon_problem(record)
            if problem:
                fail("canonical", problem)
            else:
                computed = hashlib.sha256(vb.canon(record)).hexdigest()
                if computed != this_hash:
                    fail("hash", f"report says {this_hash!r}, SHA-256 of the record is {computed}")
            if i == 1 and record.get("prev") != vb.ZERO_HASH:
                fail("prev", "seq 1 must have prev of 64 zeros")
            elif i > 1 and (prev_hash is None or record.get("prev") != prev_hash):
                fail("prev", f"{record.get('prev')!r} is not the previous entry's hash")
            if isinstance(record.get("id"), str) and isinstance(record.get("source"), str):
                recorded = record.get("recorded_us")
                if vb._is_int(recorded):
                    shown[(record["id"], record["source"])] = recorded
        if not (vb._is_int(seq) and seq == i):
            fail("seq", f"expected {i}, got {seq!r} (entries run 1..k without gaps)")
        if not (isinstance(this_hash, str) and vb._HEX64.match(this_hash)):
            fail("hash", "not 64 lowercase hex digits")
            prev_hash = None
            continue
        prev_hash = this_hash
        proof = vb._hex_list(entry.get("inclusion"))
        if proof is None:
            fail("inclusion", "not a list of 64-hex-digit hashes")
        elif size is None or root is None:
            fail("inclusion", "cannot check: the checkpoint has no valid size/root")
        elif not (vb._is_int(position) and 0 <= position < size):
            fail("inclusion", f"position {position!r} is not below checkpoint size {size}")
        elif not vb.verify_inclusion(
            position, size, vb.merkle_leaf(bytes.fromhex(this_hash)), proof, root
        ):
            fail("inclusion", f"proof does not lead to checkpoint root (tree size {size})")
    return fails, shown, redacted


def cited(value: Any) -> list[tuple[str, str]]:
    """Every (id, source) the content cites: objects with both keys, derived_from entries."""
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and isinstance(value.get("source"), str):
            out.append((value["id"], value["source"]))
        for item in value.values():
            out += cited(item)
    elif isinstance(value, list):
        for item in value:
            out += cited(item)
    return out


# ---- the report ----------------------------------------------------------------------------


def verify(
    report: Any,
    public_key: bytes | None,
    witness_keys: list[bytes] | None = None,
    witnesses: int = 0,
) -> tuple[list[str], list[str], list[str]]:
    """(failures, warnings, what was proved) of a parsed report; ``witness_keys`` and
    ``witnesses`` (K) check its ``cosignatures``."""
    if not isinstance(report, dict):
        return ["report: structure: not a JSON object"], [], []
    fails: list[str] = []
    warnings: list[str] = []
    proved: list[str] = []
    if not REPORT_KEYS <= report.keys() <= REPORT_KEYS | REPORT_OPTIONAL:
        fails.append(
            f"report: keys: missing {sorted(REPORT_KEYS - report.keys())}, "
            f"unexpected {sorted(report.keys() - REPORT_KEYS - REPORT_OPTIONAL)}"
        )
    if report.get("format") != REPORT_FORMAT:
        fails.append(f"report: format: expected {REPORT_FORMAT!r}, got {report.get('format')!r}")
    subject = report.get("subject")
    bundle = report.get("bundle") if isinstance(report.get("bundle"), dict) else {}
    bundle_key = vb._b64(bundle.get("public_key"), 32)
    key = public_key if public_key is not None else bundle_key
    if public_key is None:
        warnings.append(
            "no trusted public key given (--public-key): the signatures were checked with the "
            "report's own key, which proves nothing about who signed it"
        )
    elif bundle_key != public_key:
        fails.append("bundle: public_key: differs from the trusted public key given")
    if key is None:
        return [*fails, "report: no usable public key"], warnings, proved

    # the signature over canon(report without signature and cosignatures)
    body = {k: v for k, v in report.items() if k != "signature" and k not in REPORT_OPTIONAL}
    problem = vb.canon_problem(body)
    signature = vb._b64(report.get("signature"), 64)
    if problem:
        fails.append(f"report: canonical: {problem}")
    elif signature is None:
        fails.append("report: signature: not base64 of 64 bytes")
    else:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, vb.canon(body))
            proved.append("the report is signed by the ledger's key, unchanged since")
        except (InvalidSignature, ValueError):
            fails.append("report: signature: Ed25519 signature does not verify")

    # the bundle
    if bundle.get("format") != vb.BUNDLE_FORMAT:
        fails.append(f"bundle: format: expected {vb.BUNDLE_FORMAT!r}")
    if bundle.get("subject") != subject:
        fails.append("bundle: subject: not the report's subject")
    cp = bundle.get("checkpoint")
    fails += vb._check_checkpoint(cp, "checkpoint", key)
    size = root = heads_root = None
    known_at = _instant_us(report.get("known_at"))
    if known_at is None:
        fails.append("report: known_at: not an RFC 3339 instant with an offset")
    if isinstance(cp, dict):
        size = cp["size"] if vb._is_int(cp.get("size")) else None
        if isinstance(cp.get("root"), str) and vb._HEX64.match(cp["root"]):
            root = bytes.fromhex(cp["root"])
        if isinstance(cp.get("heads_root"), str) and vb._HEX64.match(cp["heads_root"]):
            heads_root = bytes.fromhex(cp["heads_root"])
        issued = cp.get("issued_us")
        if known_at is not None and vb._is_int(issued) and issued < known_at:
            fails.append(
                f"checkpoint: issued_us: {issued} is before the report's known_at ({known_at})"
            )
    records = bundle.get("records")
    if not isinstance(records, list):
        return [*fails, "bundle: records: not a list"], warnings, proved
    more, shown, redacted = _check_entries(records, subject, size, root)
    fails += more
    # the head proof reads only the last entry's seq and hash
    head_view = [
        {
            "record": {
                "seq": e.get("seq") if e.get("redacted") else (e.get("record") or {}).get("seq")
            },
            "hash": e.get("hash"),
        }
        for e in records
        if isinstance(e, dict)
    ]
    if "head" in bundle:
        fails += vb._check_head(bundle["head"], subject, heads_root, head_view)
    else:
        fails.append("bundle: head: a report's bundle must carry the head proof")

    more, notes, cosigned = vb.check_cosignatures(
        report.get("cosignatures"), cp, witness_keys or [], witnesses
    )
    fails += more
    warnings += notes
    if witness_keys and not more:
        proved.append(
            f"the checkpoint's tree is cosigned by {cosigned} of the {len(witness_keys)} given "
            f"witnesses ({witnesses} required)"
        )

    # the content's citations
    content = report.get("content")
    citations = cited(content)
    for ident, source in citations:
        recorded = shown.get((ident, source))
        if recorded is None:
            fails.append(f"content: ({ident}, {source}) is not an unredacted record of the bundle")
        elif known_at is not None and recorded > known_at:
            fails.append(f"content: ({ident}, {source}) was recorded after known_at")
    if not fails:
        proved += [
            f"the bundle's {len(records)} entries of subject {subject} ({len(records) - redacted} "
            f"shown, {redacted} redacted) are in the ledger's tree of {size} records, in their "
            "places in the subject's chain",
            "nothing of the subject came after the last entry at the checkpoint (head proof)",
            f"every one of the {len(set(citations))} records the report cites is shown in the "
            "bundle and was recorded by known_at",
        ]
    return fails, warnings, proved


def report_hash(report: Any) -> str:
    """SHA-256 of canon(report), signature included, cosignatures not (what the PDF prints)."""
    body = {k: v for k, v in report.items() if k not in REPORT_OPTIONAL}
    return hashlib.sha256(vb.canon(body)).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="verify_report.py",
        description="Verify a credit-ledger credit report (credit-report/1), JSON or PDF.",
    )
    parser.add_argument("report", help="the report: its JSON, or the PDF that embeds it")
    parser.add_argument(
        "--public-key",
        help="the ledger's published Ed25519 key: base64 of the raw 32 bytes, or a file",
    )
    vb.add_witness_arguments(parser)
    args = parser.parse_args(argv)
    try:
        key = vb.load_public_key(args.public_key) if args.public_key is not None else None
        witness_keys, required = vb.witness_requirement(args)
        report, error = load_report(args.report)
    except vb.UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    if error:
        print(f"FAIL: {error}")
        return 1
    fails, warnings, proved = verify(report, key, witness_keys, required)
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    if fails:
        for f in fails:
            print(f"FAIL: {f}")
        return 1
    print(
        f"OK: report {report['report_id']} of {report['subject']} ({report.get('name') or ''}), "
        f"as of {report['as_of']}, known at {report['known_at']}"
    )
    for line in proved:
        print(f"OK: {line}")
    print(f"SHA-256 of the report: {report_hash(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
