"""Witness cosignatures of checkpoints (AUDIT-FORMAT.md, "Witness cosignature" and
Clarifications "Cosignatures").

A cosignature is ``{"witness", "origin", "size", "root", "heads_root"?, "cosigned_us",
"signature"}``: the witness's Ed25519 signature (base64) over ``canon`` of every other key.
It binds the tree (origin, size, root, heads_root), not one issue of a checkpoint
(``issued_us`` is not in it): a cosignature of a checkpoint also holds for a later checkpoint
that repeats its size and roots (a report's fresh checkpoint, AUDIT-FORMAT.md Clarifications).

Cosignatures travel beside the ledger's signature, outside what it signs: a bundle or a
report carries them under a top-level ``cosignatures`` list. The ledger does not sign them and
cannot vouch for them; it fetches them from the witnesses it is told of
(:func:`fetch_cosignatures`, ``GET BASE/v1/witness/cosignatures?origin=&size=``, served by
``ledger witness --serve``) and hands them on. Only an auditor holding the witnesses' public
keys can count them (:func:`witnessed_by`; ``tools/verify_bundle.py --witness-key``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.chain import canonical

__all__ = [
    "COSIGNED_KEYS",
    "CosignatureSource",
    "cosign",
    "cosigned_body",
    "fetch_cosignatures",
    "matches",
    "verify_cosignature",
    "witnessed_by",
]

log = logging.getLogger("ledger.audit")

COSIGNED_KEYS = ("origin", "size", "root", "heads_root")
"""The keys of the checkpoint a cosignature repeats (``heads_root`` only when it has one)."""


def cosigned_body(witness: str, checkpoint: Mapping[str, Any], cosigned_us: int) -> dict[str, Any]:
    """The object a witness signs for ``checkpoint`` (a checkpoint's JSON)."""
    body: dict[str, Any] = {"witness": witness, "cosigned_us": cosigned_us}
    for key in COSIGNED_KEYS:
        if key in checkpoint:
            body[key] = checkpoint[key]
    return body


def cosign(
    key: Ed25519PrivateKey, witness: str, checkpoint: Mapping[str, Any], cosigned_us: int
) -> dict[str, Any]:
    """The cosignature of ``checkpoint`` by ``witness`` with its ``key``."""
    body = cosigned_body(witness, checkpoint, cosigned_us)
    signature = key.sign(canonical(body))
    return {**body, "signature": base64.b64encode(signature).decode("ascii")}


def matches(cosignature: Mapping[str, Any], checkpoint: Mapping[str, Any]) -> bool:
    """True iff ``cosignature`` names exactly the tree of ``checkpoint`` (origin, size, root
    and heads_root, present in both or in neither)."""
    return all(cosignature.get(k) == checkpoint.get(k) for k in COSIGNED_KEYS)


def verify_cosignature(cosignature: Mapping[str, Any], public_key: bytes) -> bool:
    """True iff ``cosignature``'s signature verifies under the raw 32-byte Ed25519 key.
    Never raises."""
    try:
        body = {k: v for k, v in cosignature.items() if k != "signature"}
        signature = base64.b64decode(str(cosignature["signature"]), validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical(body))
    except (InvalidSignature, KeyError, ValueError, TypeError, binascii.Error):
        return False
    return True


def witnessed_by(
    cosignatures: Iterable[Mapping[str, Any]],
    checkpoint: Mapping[str, Any],
    witness_keys: Sequence[bytes],
) -> set[bytes]:
    """The keys among ``witness_keys`` with a valid cosignature of ``checkpoint``'s tree in
    ``cosignatures`` (each key counts once, whatever the witness name says)."""
    found: set[bytes] = set()
    for cosignature in cosignatures:
        if not matches(cosignature, checkpoint):
            continue
        for key in witness_keys:
            if key not in found and verify_cosignature(cosignature, key):
                found.add(key)
    return found


def fetch_cosignatures(
    witnesses: Iterable[str], checkpoint: Mapping[str, Any], *, timeout_s: float = 3.0
) -> tuple[list[dict[str, Any]], list[str]]:
    """Ask each witness base URL for its cosignatures of ``checkpoint``'s tree.

    Returns ``(cosignatures, problems)``: the cosignatures that name exactly that tree (not
    checked: the ledger holds no witness keys), at most one per witness URL, and one line per
    witness that could not be asked. Never raises: a bundle stays valid without them.
    """
    found: list[dict[str, Any]] = []
    problems: list[str] = []
    query = urllib.parse.urlencode({"origin": checkpoint["origin"], "size": checkpoint["size"]})
    for base in witnesses:
        url = f"{base.rstrip('/')}/v1/witness/cosignatures?{query}"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as answer:
                listed = orjson.loads(answer.read(1 << 22)).get("cosignatures", [])
        except (OSError, ValueError, AttributeError) as e:
            problems.append(f"witness {base}: {e}")
            continue
        for cosignature in listed if isinstance(listed, list) else []:
            if isinstance(cosignature, dict) and matches(cosignature, checkpoint):
                found.append(cosignature)
                break
    return found, problems


class CosignatureSource:
    """The witnesses a ledger asks for cosignatures (``LEDGER_WITNESSES``: base URLs,
    comma-separated), with a cache: a tree's cosignatures found are kept (they never change);
    a witness that did not answer, or had none yet, is asked again after ``retry_s``. So a
    bundle or report costs at most one round of requests per new checkpoint, and a witness
    that is down delays it by at most ``timeout_s`` once per ``retry_s``."""

    def __init__(
        self, witnesses: Sequence[str], *, timeout_s: float = 2.0, retry_s: float = 60.0
    ) -> None:
        self.witnesses = list(witnesses)
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._found: dict[tuple[str, tuple[Any, ...]], dict[str, Any]] = {}
        self._asked: dict[tuple[str, tuple[Any, ...]], float] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, witnesses: str | None) -> CosignatureSource | None:
        """The source of a ``LEDGER_WITNESSES`` value; None when it names no witness."""
        urls = [u.strip() for u in (witnesses or "").split(",") if u.strip()]
        return cls(urls) if urls else None

    def for_checkpoint(self, checkpoint: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The witnesses' cosignatures of ``checkpoint``'s tree (cached)."""
        tree = tuple(checkpoint.get(k) for k in COSIGNED_KEYS)
        found: list[dict[str, Any]] = []
        now = time.monotonic()
        for witness in self.witnesses:
            key = (witness, tree)
            with self._lock:
                known = self._found.get(key)
                due = now - self._asked.get(key, -self.retry_s) >= self.retry_s
            if known is None and due:
                fetched, problems = fetch_cosignatures(
                    [witness], checkpoint, timeout_s=self.timeout_s
                )
                for problem in problems:
                    log.warning("cosignatures not fetched: %s", problem)
                with self._lock:
                    self._asked[key] = now
                    if fetched:
                        known = self._found[key] = fetched[0]
            if known is not None:
                found.append(known)
        return found

    def attach(self, document: dict[str, Any]) -> dict[str, Any]:
        """``document`` (a bundle, or a report with its ``bundle``) with ``cosignatures`` of
        its checkpoint beside it, when any witness has them; else ``document`` unchanged."""
        checkpoint = document.get("checkpoint") or document.get("bundle", {}).get("checkpoint")
        if not isinstance(checkpoint, Mapping):
            return document
        found = self.for_checkpoint(checkpoint)
        return {**document, "cosignatures": found} if found else document
