"""The audit format in one place (AUDIT-FORMAT.md and docs/audit-format-v1-additions.md):
the keys of every published object, the checkpoint's signed fields and bytes, the
subject-heads leaf, and the format names.

Everything that writes or reads these objects — the checkpoints, proofs, bundles and
reports of :mod:`ledger.audit`, the API's models — takes the names from here. The
standalone verifiers (``tools/verify_bundle.py``, ``tools/verify_report.py``) keep their own
code on purpose (an auditor reads them without this package);
``tests/unit/ledger/test_audit_format.py`` checks that their key sets are these.

Pure: no I/O, no store. The record itself (its keys, ``format`` 1, the genesis ``prev``,
the canonical bytes and hash) is :mod:`ledger.chain`'s; it is re-exported here so a reader
of the format finds every part of it in one module.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ledger import merkle
from ledger.chain import FORMAT, GENESIS, RECORD_KEYS, canonical

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_KEYS",
    "BUNDLE_OPTIONAL_KEYS",
    "CHECKPOINT_KEYS",
    "CHECKPOINT_OPTIONAL_KEYS",
    "CHECKPOINT_SIGNED_KEYS",
    "ENTRY_KEYS",
    "FORMAT",
    "GENESIS",
    "HEAD_KEYS",
    "HEAD_LEAF_KEYS",
    "NEIGHBOUR_KEYS",
    "RECORD_KEYS",
    "REDACTED_KEYS",
    "REPORT_FORMAT",
    "REPORT_KEYS",
    "REPORT_OPTIONAL_KEYS",
    "REPORT_UNSIGNED_KEYS",
    "checkpoint_body",
    "head_leaf_data",
    "head_leaf_hash",
    "signed_bytes",
]

# -- checkpoints -----------------------------------------------------------------------------

CHECKPOINT_SIGNED_KEYS: Final[tuple[str, ...]] = (
    "origin",
    "size",
    "root",
    "issued_us",
    "heads_root",
)
"""The keys the signature covers, in the order they are written (every key but
``signature``). ``root`` and ``heads_root`` are lowercase hex, ``issued_us`` microseconds."""

CHECKPOINT_KEYS: Final[tuple[str, ...]] = (*CHECKPOINT_SIGNED_KEYS, "signature")
"""Every key of a published checkpoint; ``signature`` is base64 of the Ed25519 signature."""

CHECKPOINT_OPTIONAL_KEYS: Final[frozenset[str]] = frozenset({"heads_root"})
"""Keys a reader accepts as absent (checkpoints issued before the heads tree)."""


def checkpoint_body(
    origin: str, size: int, root: str, issued_us: int, heads_root: str
) -> dict[str, Any]:
    """The signed object of a checkpoint: :data:`CHECKPOINT_SIGNED_KEYS` with their values."""
    return {
        "origin": origin,
        "size": size,
        "root": root,
        "issued_us": issued_us,
        "heads_root": heads_root,
    }


def signed_bytes(body: dict[str, Any]) -> bytes:
    """``canon(body)``: the bytes a checkpoint's (or a report's) signature covers.

    ``body`` is the object without ``signature``. Raises ``CanonicalError`` outside the
    canonical domain (:mod:`ledger.chain`)."""
    return canonical(body)


# -- the subject-heads tree -------------------------------------------------------------------

HEAD_LEAF_KEYS: Final[frozenset[str]] = frozenset({"subject", "seq", "hash"})
"""The keys of a heads-tree leaf's data (and of a ``leaf`` in a head proof)."""

_STRICT = orjson.OPT_STRICT_INTEGER


def head_leaf_data(subject: str, seq: int, digest: bytes) -> bytes:
    """``canon({"subject": subject, "seq": seq, "hash": hex(digest)})`` (keys sorted:
    hash, seq, subject). ``subject`` is a validated code, ``seq`` within ±(2**53 − 1)."""
    return orjson.dumps({"hash": digest.hex(), "seq": seq, "subject": subject}, option=_STRICT)


def head_leaf_hash(subject: str, seq: int, digest: bytes) -> bytes:
    """The heads-tree leaf hash ``H(0x00 ‖ head_leaf_data(...))``."""
    return merkle.leaf_hash(head_leaf_data(subject, seq, digest))


# -- bundles ------------------------------------------------------------------------------------

BUNDLE_FORMAT: Final[str] = "credit-ledger-audit/1"
BUNDLE_KEYS: Final[tuple[str, ...]] = ("format", "subject", "public_key", "checkpoint", "records")
"""The keys every bundle has."""
BUNDLE_OPTIONAL_KEYS: Final[tuple[str, ...]] = ("head", "cosignatures")
"""Keys of the format a bundle may lack (bundles made before head proofs)."""
ENTRY_KEYS: Final[frozenset[str]] = frozenset({"record", "hash", "inclusion"})
"""The keys of one entry of a bundle's ``records``."""
HEAD_KEYS: Final[frozenset[str]] = frozenset(
    {"leaf", "index", "count", "inclusion", "previous", "next"}
)
"""The keys of a bundle's ``head`` (the subject's head proof)."""
NEIGHBOUR_KEYS: Final[frozenset[str]] = frozenset({"leaf", "index", "inclusion"})
"""The keys of a head proof's ``previous`` and ``next``."""

# -- reports ------------------------------------------------------------------------------------

REPORT_FORMAT: Final[str] = "credit-report/1"
REPORT_KEYS: Final[frozenset[str]] = frozenset(
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
"""The keys of a signed credit report."""
REPORT_OPTIONAL_KEYS: Final[frozenset[str]] = frozenset({"cosignatures"})
"""The keys a report may carry besides: witnesses' ``cosignatures`` of the checkpoint it
cites, added after issue."""
REPORT_UNSIGNED_KEYS: Final[frozenset[str]] = frozenset({"signature", "cosignatures"})
"""The keys a report's signature (and its printed SHA-256) leave out."""
REDACTED_KEYS: Final[frozenset[str]] = frozenset(
    {"redacted", "seq", "position", "hash", "inclusion"}
)
"""The keys of a redacted entry of a report's bundle (its content and ``prev`` gone)."""
