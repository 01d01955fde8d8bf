"""Signed checkpoints and the subject-heads tree (AUDIT-FORMAT.md, "Checkpoints" and
"Subject heads").

A checkpoint commits to the first ``size`` records: ``root`` is the RFC 6962 root of their
leaves (from the stored frontier nodes), ``heads_root`` the root over every subject's stream
head at that size, one leaf per subject with data ``canon({"subject", "seq", "hash"})``,
sorted by subject code (code-point order; codes are ASCII). The signature is Ed25519 over
``canon(checkpoint without "signature")``, base64.

Storage: ``ledger_checkpoints`` keeps each checkpoint's signed body bytes and raw signature,
one row per size, inserted once and never updated. ``ledger_checkpoint_heads`` keeps the
sorted head leaves of each checkpoint and ``ledger_checkpoint_head_nodes`` its heads-tree
perfect nodes of level >= ``HEAD_NODES_MIN_LEVEL``, so a head proof reads a few dozen rows
instead of recomputing the heads of every subject (which takes seconds on a million
subjects). That costs one row per subject per checkpoint; if old checkpoints' heads are ever
pruned, proofs fall back to recomputing them from ``ledger_records``
(:func:`checkpoint_heads`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import IntegrityError

from ledger import merkle
from ledger.audit.format import (
    CHECKPOINT_SIGNED_KEYS,
    checkpoint_body,
    head_leaf_data,
    head_leaf_hash,
    signed_bytes,
)
from ledger.store.audit_reads import HEAD_NODES_MIN_LEVEL
from ledger.store.recorder import LedgerSQL
from ledger.store.tables import CHECKPOINTS_TABLE, HEAD_NODES_TABLE, HEADS_TABLE

if TYPE_CHECKING:
    from ledger.audit.checkpoint_log import CheckpointLog

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "checkpoint_at",
    "checkpoint_heads",
    "head_leaf_data",
    "head_leaf_hash",
    "heads_tree",
    "issue_checkpoint",
    "latest_checkpoint",
    "list_checkpoints",
]

Head = tuple[str, int, bytes]
"""A subject's stream head: (subject code, seq, raw 32-byte record hash)."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be issued or read as stored: the ledger is not consistent with
    what was signed before (the message says how). Never ignore it."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed checkpoint (AUDIT-FORMAT.md): ``root`` and ``heads_root`` lowercase hex,
    ``signature`` base64 of the 64-byte Ed25519 signature over :meth:`signed_bytes`."""

    origin: str
    size: int
    root: str
    issued_us: int
    heads_root: str
    signature: str

    def body(self) -> dict[str, Any]:
        """The signed object: every key but ``signature`` (:data:`CHECKPOINT_SIGNED_KEYS`)."""
        return checkpoint_body(self.origin, self.size, self.root, self.issued_us, self.heads_root)

    def signed_bytes(self) -> bytes:
        """``canon(body)``: the bytes the signature covers (and the stored ``body``)."""
        return signed_bytes(self.body())

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as published and put in bundles (with ``signature``)."""
        return {**self.body(), "signature": self.signature}

    def signature_bytes(self) -> bytes:
        return base64.b64decode(self.signature)

    def verify_signature(self, public_key: bytes) -> bool:
        """True iff the signature verifies under the raw 32-byte Ed25519 ``public_key``."""
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                self.signature_bytes(), self.signed_bytes()
            )
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    @classmethod
    def sign(
        cls,
        key: Ed25519PrivateKey,
        *,
        origin: str,
        size: int,
        root: bytes,
        issued_us: int,
        heads_root: bytes,
    ) -> Checkpoint:
        """A new checkpoint signed with ``key``."""
        unsigned = cls(origin, size, root.hex(), issued_us, heads_root.hex(), "")
        signature = key.sign(unsigned.signed_bytes())
        return cls(
            origin,
            size,
            root.hex(),
            issued_us,
            heads_root.hex(),
            base64.b64encode(signature).decode(),
        )

    @classmethod
    def from_stored(cls, body: bytes, signature: bytes) -> Checkpoint:
        """The checkpoint of a ``ledger_checkpoints`` row.

        Raises:
            CheckpointError: the body is not the canonical bytes of a checkpoint object.
        """
        try:
            obj = orjson.loads(body)
            cp = cls(
                obj["origin"],
                obj["size"],
                obj["root"],
                obj["issued_us"],
                obj["heads_root"],
                base64.b64encode(signature).decode(),
            )
            same = sorted(obj) == sorted(CHECKPOINT_SIGNED_KEYS) and cp.signed_bytes() == body
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"stored checkpoint body is not a checkpoint: {e}") from e
        if not same:
            raise CheckpointError(f"stored checkpoint of size {cp.size}: body is not canonical")
        return cp


def node_getter(nodes: dict[tuple[int, int], bytes]) -> merkle.NodeGetter:
    """``node(level, idx)`` answering from a dict of fetched nodes (KeyError if absent)."""
    return lambda level, idx: nodes[(level, idx)]


# -- the heads tree -----------------------------------------------------------------------


def heads_tree(
    heads: Sequence[Head], min_level: int = HEAD_NODES_MIN_LEVEL
) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """``(root, nodes)`` of the heads tree over ``heads`` (already sorted by subject):
    the RFC 6962 root (``EMPTY_ROOT`` for none) and every perfect node ``(level, idx,
    hash)`` of level >= ``min_level``. O(n) hashes, O(n) memory."""
    if not heads:
        return merkle.EMPTY_ROOT, []
    levels: list[list[bytes]] = [[head_leaf_hash(s, k, h) for s, k, h in heads]]
    nodes: list[tuple[int, int, bytes]] = []
    while len(levels[-1]) >= 2:
        below = levels[-1]
        above = merkle.parent_level(below)
        levels.append(above)
        level = len(levels) - 1
        if level >= min_level:
            nodes.extend((level, i, h) for i, h in enumerate(above))
    root = merkle.root_from_frontier(len(heads), lambda level, idx: levels[level][idx])
    return root, nodes


def checkpoint_heads(recorder: LedgerSQL, cursor: Any, size: int) -> list[Head]:
    """Every subject's head among the first ``size`` records, sorted by subject code,
    recomputed from ``ledger_records`` (one GROUP BY / DISTINCT ON statement)."""
    return recorder.select_heads(cursor, size)


# -- reading stored checkpoints ---------------------------------------------------------


def list_checkpoints(recorder: LedgerSQL, cursor: Any | None = None) -> list[Checkpoint]:
    """Every stored checkpoint, in size order."""
    return _rows(recorder, cursor, lambda c: recorder.checkpoint_rows(c))


def latest_checkpoint(recorder: LedgerSQL, cursor: Any | None = None) -> Checkpoint | None:
    """The stored checkpoint of the largest size, or None if none was issued."""
    found = _rows(recorder, cursor, lambda c: recorder.checkpoint_rows(c, latest=True))
    return found[0] if found else None


def checkpoint_at(recorder: LedgerSQL, size: int, cursor: Any | None = None) -> Checkpoint | None:
    """The stored checkpoint of exactly ``size``, or None."""
    found = _rows(recorder, cursor, lambda c: recorder.checkpoint_rows(c, size=size))
    return found[0] if found else None


def _rows(
    recorder: LedgerSQL,
    cursor: Any | None,
    read: Callable[[Any], list[tuple[int, int, bytes, bytes]]],
) -> list[Checkpoint]:
    if cursor is None:
        with recorder.audit_reader() as cur:
            rows = read(cur)
    else:
        rows = read(cursor)
    out = []
    for size, _issued, body, signature in rows:
        cp = Checkpoint.from_stored(body, signature)
        if cp.size != size:
            raise CheckpointError(f"stored checkpoint row {size} holds a body of size {cp.size}")
        out.append(cp)
    return out


# -- issuing -------------------------------------------------------------------------------


def issue_checkpoint(
    recorder: LedgerSQL,
    signing_key: Ed25519PrivateKey,
    origin: str,
    now_us: int,
    log: CheckpointLog | None = None,
) -> Checkpoint:
    """Sign and store a checkpoint of the ledger as it is now; return it.

    With a checkpoint ``log`` (:mod:`ledger.audit.checkpoint_log`, outside the database),
    the ledger must first be consistent with the newest checkpoint of ``origin`` published
    there (else :class:`~ledger.audit.checkpoint_log.CheckpointRefused`, nothing signed),
    the new checkpoint is written to the log before the database commit that stores it (a
    failed write issues nothing), and sent to the log's Kafka topic after it
    (``CheckpointPublishError`` if the broker does not take it; the checkpoint stands).

    If the ledger did not grow since the latest stored checkpoint, that one is returned and
    nothing is written. Otherwise the new tree is first shown to extend the latest stored
    checkpoint (an RFC 9162 consistency proof from the stored nodes, checked against the
    signed old root), the subjects' heads are computed from the records, and the checkpoint,
    its head leaves and heads-tree nodes are inserted in one transaction. ``issued_us`` is
    ``max(now_us, latest.issued_us)`` so it never goes backwards.

    The heads are the latest checkpoint's stored heads (checked against its signed
    ``heads_root``) updated with the records since, so the cost grows with the number of
    subjects and new records, not with the ledger; the first checkpoint computes them from
    every record. The computation runs on a read snapshot; only the insert takes the
    ledger's write lock (appends wait for it: well under a second per 100,000 subjects). If
    another process stored a checkpoint meanwhile, the work is redone against it.

    Raises:
        CheckpointError: the ledger is smaller than, or not an extension of, the latest
            stored checkpoint (records were removed or altered): nothing is stored.
        LookupError: a Merkle node the root needs is missing from the store.
    """
    for _ in range(5):
        published = log.newest(origin) if log is not None else None
        with recorder.audit_reader() as cursor:
            latest = latest_checkpoint(recorder, cursor)
            size = recorder.ledger_size(cursor)
            if published is not None:
                from ledger.audit.checkpoint_log import store_conflict

                refused = store_conflict(recorder, cursor, published, size)
                if refused is not None:
                    raise refused
            if latest is not None:
                if size == latest.size:
                    if log is not None and _newer(latest, published):
                        log.write(latest)  # issued before the log was kept
                        log.announce(latest)
                    return latest
                if size < latest.size:
                    raise CheckpointError(
                        f"the ledger holds {size} records but checkpoint {latest.size} was "
                        f"signed: records {size}..{latest.size - 1} are missing; refusing to "
                        "issue a checkpoint"
                    )
            old = latest.size if latest is not None else 0
            wanted = {*merkle.frontier(size), *merkle.consistency_nodes(old, size)}
            node = node_getter(recorder.tree_nodes(cursor, wanted))
            root = merkle.root_from_frontier(size, node)
            if latest is not None:
                proof = merkle.consistency_proof(old, size, node)
                if not merkle.verify_consistency(
                    old, size, bytes.fromhex(latest.root), root, proof
                ):
                    raise CheckpointError(
                        f"the ledger's tree of {size} records is not consistent with the signed "
                        f"checkpoint of size {old} (root {latest.root}): records before "
                        f"position {old} or their Merkle nodes were altered; refusing to issue "
                        "a checkpoint. Run `ledger verify`."
                    )
            heads = _heads_at(recorder, cursor, latest, size)
        heads_root, head_nodes = heads_tree(heads)
        issued = max([now_us, *(c.issued_us for c in (latest, published) if c is not None)])
        cp = Checkpoint.sign(
            signing_key,
            origin=origin,
            size=size,
            root=root,
            issued_us=issued,
            heads_root=heads_root,
        )
        try:
            stored = _store(recorder, cp, latest, heads, head_nodes, log)
        except IntegrityError as e:
            raise CheckpointError(
                f"checkpoint {size} cannot be stored: the store already holds head rows of a "
                f"checkpoint of size {size} but not its checkpoint row (deleted?); nothing was "
                f"signed. Run `ledger verify`. ({str(e).splitlines()[0]})"
            ) from e
        if stored:
            if log is not None:
                log.announce(cp)
            return cp
    raise CheckpointError("could not store a checkpoint: other issuers kept getting in first")


def _newer(cp: Checkpoint, than: Checkpoint | None) -> bool:
    return than is None or (cp.size, cp.issued_us) > (than.size, than.issued_us)


def _heads_at(recorder: LedgerSQL, cursor: Any, latest: Checkpoint | None, size: int) -> list[Head]:
    """The subjects' heads at ``size``: the latest checkpoint's stored heads (when they
    still hash to its signed ``heads_root``) updated with the heads of the records after it;
    otherwise all recomputed from the records. Either way sorted by subject."""
    if latest is not None:
        count = recorder.checkpoint_head_count(cursor, latest.size)
        rows = recorder.checkpoint_head_rows(cursor, latest.size, [(0, count)]) if count else []
        old = [(s, k, h) for _, s, k, h in rows]
        if heads_tree(old, min_level=64)[0].hex() == latest.heads_root:
            return _merge(old, recorder.select_heads(cursor, size, after=latest.size))
    return checkpoint_heads(recorder, cursor, size)


def _merge(old: list[Head], new: list[Head]) -> list[Head]:
    """Two subject-sorted head lists merged; a subject in ``new`` replaces it in ``old``."""
    out: list[Head] = []
    i = 0
    for head in new:
        while i < len(old) and old[i][0] < head[0]:
            out.append(old[i])
            i += 1
        if i < len(old) and old[i][0] == head[0]:
            i += 1
        out.append(head)
    out.extend(old[i:])
    return out


def _store(
    recorder: LedgerSQL,
    cp: Checkpoint,
    expected_latest: Checkpoint | None,
    heads: Sequence[Head],
    head_nodes: list[tuple[int, int, bytes]],
    log: CheckpointLog | None = None,
) -> bool:
    """Insert ``cp`` and its heads unless the latest stored checkpoint is no longer
    ``expected_latest`` (then False: someone else issued one). Holds the ledger's write
    lock, so the ledger cannot change under it either. ``cp`` is written to ``log`` (if
    given) before the insert commits."""
    store = recorder.store
    with store.locked_transaction() as cursor:
        rows = recorder.checkpoint_rows(cursor, latest=True)
        now = rows[0][0] if rows else None
        if now != (expected_latest.size if expected_latest is not None else None):
            return False
        store.insert_rows(
            cursor,
            CHECKPOINTS_TABLE,
            "size, issued_us, body, signature",
            [(cp.size, cp.issued_us, cp.signed_bytes(), cp.signature_bytes())],
        )
        if heads:
            store.insert_rows(
                cursor,
                HEADS_TABLE,
                "size, ordinal, subject, seq, hash",
                [(cp.size, i, s, k, h) for i, (s, k, h) in enumerate(heads)],
            )
        if head_nodes:
            store.insert_rows(
                cursor,
                HEAD_NODES_TABLE,
                "size, level, idx, hash",
                [(cp.size, lvl, idx, h) for lvl, idx, h in head_nodes],
            )
        if log is not None:
            log.write(cp)  # the last step before the commit: a failed write issues nothing
    return True
