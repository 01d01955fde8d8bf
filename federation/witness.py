"""The witness (issue 22, item 3; AUDIT-FORMAT.md "Witness cosignature" and Clarifications
"Witness order"): it follows regional ledgers' logs, verifies each new signed checkpoint
against the last one it verified, cosigns it, and refuses and keeps the evidence of a fork.

For each log (``BASE_URL=PUBLIC_KEY``) one check (:meth:`Witness.check`):

1. ``GET BASE_URL/v1/checkpoints/latest``: the offered checkpoint; its Ed25519 signature must
   verify under the configured key.
2. Compared with the stored checkpoint of its origin (:func:`judge`):
   * none stored yet: trusted on first use (an empty tree is extended by every tree);
   * larger size: ``GET BASE_URL/v1/checkpoints/consistency?from=STORED&to=OFFERED`` must give
     an RFC 9162 proof that verifies (``ledger.merkle.verify_consistency``) against the stored
     root and the offered root;
   * same size: the same root (and heads_root) with a later ``issued_us`` is newer (cosigned
     again); the very same or an older issue is already seen;
   * a smaller size, the same size with another root or heads_root, a larger size whose proof
     is refused, malformed or does not verify, or a bad signature: a fork.
3. Newer: cosign (``ledger.audit.cosignatures``), append the cosignature, store the checkpoint
   (atomically, :mod:`federation.witness_state`), publish the cosignature (Kafka when
   configured). Fork: nothing stored or cosigned; the evidence (both signed checkpoints, the
   failing proof when one was offered, the key) is kept in ``DIR/evidence/``, counted in
   ``ledger_witness_forks_total{origin}`` and logged at ERROR.

A log that cannot be reached (connection refused, timeout, a 5xx answer) is neither: the
check says ``error`` and the next run tries again. :func:`check_evidence` re-checks a kept
evidence file on its own (``ledger witness --check-evidence FILE``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import CollectorRegistry, Counter, Gauge

from federation.witness_state import WitnessState
from ledger import merkle
from ledger.audit.checkpoint_log import parse_checkpoint
from ledger.audit.checkpoints import Checkpoint, CheckpointError
from ledger.audit.cosignatures import cosign
from ledger.audit.keys import public_key_b64

__all__ = [
    "EVIDENCE_FORMAT",
    "BadAnswer",
    "LogSpec",
    "LogUnreachable",
    "Observation",
    "Verdict",
    "Witness",
    "WitnessMetrics",
    "check_evidence",
    "judge",
]

log = logging.getLogger("ledger.witness")

EVIDENCE_FORMAT = "credit-ledger-witness-evidence/1"
FORK_KINDS = ("bad-signature", "smaller", "different-root", "different-heads", "inconsistent")


class LogUnreachable(RuntimeError):
    """The log did not answer (network, timeout, 5xx): try again later; not a fork."""


class BadAnswer(RuntimeError):
    """The log answered, but not with what was asked (4xx, not JSON, wrong shape)."""


@dataclass(frozen=True)
class LogSpec:
    """One followed log: its API base URL and its published key (raw 32 bytes)."""

    base_url: str
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> LogSpec:
        """``BASE_URL=PUBLIC_KEY`` (the key base64; split at the first ``=``).

        Raises:
            ValueError: not of that form, or the key is not base64 of 32 bytes.
        """
        base, sep, key = text.partition("=")
        if not sep or not base.startswith(("http://", "https://")):
            raise ValueError(f"--log {text!r}: expected BASE_URL=PUBLIC_KEY (http(s) URL)")
        try:
            raw = base64.b64decode(key.strip(), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"--log {text!r}: the key is not base64 of a raw 32-byte Ed25519 key")
        return cls(base.rstrip("/"), raw)

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.public_key).decode("ascii")


def get_json(url: str, timeout_s: float = 10.0) -> Any:
    """The JSON answer of ``GET url``.

    Raises:
        LogUnreachable: no answer, or a 5xx one.
        BadAnswer: a 4xx answer, or not JSON.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            data = answer.read(1 << 24)
    except urllib.error.HTTPError as e:
        if e.code >= 500:
            raise LogUnreachable(f"GET {url}: HTTP {e.code}") from e
        raise BadAnswer(f"GET {url}: HTTP {e.code}: {e.read(500).decode(errors='replace')}") from e
    except (OSError, ValueError) as e:
        raise LogUnreachable(f"GET {url}: {e}") from e
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise BadAnswer(f"GET {url}: not JSON: {e}") from e


# -- judging one offered checkpoint ---------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """``kind``: ``cosign`` (newer: cosign and store it), ``seen`` (nothing new) or ``fork``
    (``reason`` one of :data:`FORK_KINDS`); ``detail`` for people; ``proof``: the consistency
    answer offered (JSON), kept as evidence."""

    kind: str
    reason: str = ""
    detail: str = ""
    proof: Any = None


ProofSource = Callable[[int, int], Any]
"""``(old, new)`` → the log's consistency answer ``{"from", "to", "proof": [hex, …], …}``;
raises :class:`BadAnswer` or :class:`LogUnreachable`."""


def _hexes(value: Any) -> list[bytes] | None:
    if not isinstance(value, list):
        return None
    try:
        path = [bytes.fromhex(h) for h in value]
    except (TypeError, ValueError):
        return None
    return path if all(len(p) == merkle.HASH_SIZE for p in path) else None


def proof_holds(stored: Checkpoint, offered: Checkpoint, answer: Any) -> bool:
    """True iff ``answer`` (a consistency answer) proves ``offered`` extends ``stored``."""
    if not isinstance(answer, dict) or (answer.get("from"), answer.get("to")) != (
        stored.size,
        offered.size,
    ):
        return False
    path = _hexes(answer.get("proof"))
    return path is not None and merkle.verify_consistency(
        stored.size, offered.size, bytes.fromhex(stored.root), bytes.fromhex(offered.root), path
    )


def judge(
    stored: Checkpoint | None, offered: Checkpoint, public_key: bytes, proof_of: ProofSource
) -> Verdict:
    """The witness order of AUDIT-FORMAT.md Clarifications (module docstring).

    Raises:
        LogUnreachable: the proof could not be fetched (try again later).
    """
    if not offered.verify_signature(public_key):
        return Verdict("fork", "bad-signature", "the checkpoint's signature does not verify")
    if stored is None:
        return Verdict("cosign", detail="first checkpoint seen")
    if offered.size < stored.size:
        return Verdict(
            "fork", "smaller", f"size {offered.size} is smaller than the verified {stored.size}"
        )
    if offered.size == stored.size:
        if offered.root != stored.root:
            return Verdict("fork", "different-root", f"size {offered.size} with another root")
        if offered.heads_root != stored.heads_root:
            return Verdict(
                "fork", "different-heads", f"size {offered.size} with another heads_root"
            )
        if offered.issued_us > stored.issued_us:
            return Verdict("cosign", detail="the same tree issued again")
        return Verdict("seen")
    try:
        answer = proof_of(stored.size, offered.size)
    except BadAnswer as e:
        return Verdict("fork", "inconsistent", f"no consistency proof: {e}", {"refused": str(e)})
    if not proof_holds(stored, offered, answer):
        return Verdict(
            "fork",
            "inconsistent",
            f"the consistency proof from {stored.size} to {offered.size} does not verify",
            answer,
        )
    return Verdict("cosign", detail=f"consistent with {stored.size}")


# -- metrics ---------------------------------------------------------------------------------


class WitnessMetrics:
    """The witness's Prometheus metrics, in its own registry (served by ``--serve``):
    ``ledger_witness_forks_total{origin}``, ``ledger_witness_cosignatures_total{origin}``,
    ``ledger_witness_verified_size{origin}``, ``ledger_witness_errors_total{log}`` (a log not
    reached) and ``ledger_witness_last_check_timestamp_seconds``. Label values are the
    configured logs' origins and base URLs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.forks = Counter(
            "ledger_witness_forks_total",
            "Forks seen (refused checkpoints) by origin",
            ["origin"],
            registry=self.registry,
        )
        self.cosignatures = Counter(
            "ledger_witness_cosignatures_total",
            "Checkpoints cosigned by origin",
            ["origin"],
            registry=self.registry,
        )
        self.size = Gauge(
            "ledger_witness_verified_size",
            "Size of the last checkpoint verified, by origin",
            ["origin"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ledger_witness_errors_total",
            "Checks that could not reach a log, by base URL",
            ["log"],
            registry=self.registry,
        )
        self.last_check = Gauge(
            "ledger_witness_last_check_timestamp_seconds",
            "When the witness last finished a round over its logs (Unix seconds)",
            registry=self.registry,
        )


# -- the witness -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """The result of one check: ``status`` ``ok``, ``fork`` or ``error``; ``line`` is what
    ``--once`` prints (``ok <origin> size=N``, ``fork <origin> …``, ``error <url> …``)."""

    status: str
    line: str
    origin: str | None = None
    cosignature: dict[str, Any] | None = None
    evidence: str | None = None


class Witness:
    """A witness named ``name`` signing with ``key``, keeping its state in ``state``.

    ``publish(cosignature)`` is called after each new cosignature is stored (Kafka); its
    failure is logged, the cosignature stands (it is served from the state directory).
    """

    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        state: WitnessState,
        *,
        metrics: WitnessMetrics | None = None,
        publish: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], int] = lambda: time.time_ns() // 1000,
        timeout_s: float = 10.0,
    ) -> None:
        self.name = name
        self.key = key
        self.public_key = public_key_b64(key)
        self.state = state
        self.metrics = metrics or WitnessMetrics()
        self.publish = publish
        self.clock = clock
        self.timeout_s = timeout_s

    def check_all(self, logs: list[LogSpec]) -> list[Observation]:
        """One check of every log, in order."""
        seen = [self.check(spec) for spec in logs]
        self.metrics.last_check.set(time.time())
        return seen

    def check(self, spec: LogSpec) -> Observation:
        """Fetch, judge and cosign (or refuse) ``spec``'s latest checkpoint."""
        base = spec.base_url
        try:
            answer = get_json(f"{base}/v1/checkpoints/latest", self.timeout_s)
            offered = parse_checkpoint(orjson.dumps(answer), f"{base}/v1/checkpoints/latest")
        except (LogUnreachable, BadAnswer, CheckpointError) as e:
            self.metrics.errors.labels(base).inc()
            log.warning("witness: cannot read the latest checkpoint of %s: %s", base, e)
            return Observation("error", f"error {base} {e}")
        origin = offered.origin
        held = self.state.load(origin)
        stored = parse_checkpoint(orjson.dumps(held["checkpoint"]), "state") if held else None

        def proof_of(old: int, new: int) -> Any:
            return get_json(
                f"{base}/v1/checkpoints/consistency?from={old}&to={new}", self.timeout_s
            )

        try:
            verdict = judge(stored, offered, spec.public_key, proof_of)
        except LogUnreachable as e:
            self.metrics.errors.labels(base).inc()
            log.warning("witness: cannot fetch a consistency proof from %s: %s", base, e)
            return Observation("error", f"error {base} {e}", origin)
        if verdict.kind == "fork":
            assert stored is not None or verdict.reason == "bad-signature"
            return self._fork(spec, origin, stored, offered, verdict)
        if verdict.kind == "seen":
            self.metrics.size.labels(origin).set(offered.size)
            return Observation("ok", f"ok {origin} size={offered.size}", origin)
        cosignature = cosign(self.key, self.name, offered.to_json(), self.clock())
        self.state.append_cosignature(origin, cosignature)
        self.state.save(
            origin,
            {
                "origin": origin,
                "base_url": base,
                "public_key": spec.key_b64,
                "checkpoint": offered.to_json(),
                "cosignature": cosignature,
            },
        )
        self.metrics.cosignatures.labels(origin).inc()
        self.metrics.size.labels(origin).set(offered.size)
        if self.publish is not None:
            try:
                self.publish(cosignature)
            except Exception as e:  # the cosignature stands; it is served from the state
                log.warning(
                    "witness: cosignature of %s %d not published: %s", origin, offered.size, e
                )
        log.info("witness: cosigned %s size %d (%s)", origin, offered.size, verdict.detail)
        return Observation("ok", f"ok {origin} size={offered.size}", origin, cosignature)

    def _fork(
        self,
        spec: LogSpec,
        origin: str,
        stored: Checkpoint | None,
        offered: Checkpoint,
        verdict: Verdict,
    ) -> Observation:
        evidence = {
            "format": EVIDENCE_FORMAT,
            "witness": self.name,
            "origin": origin,
            "kind": verdict.reason,
            "detail": verdict.detail,
            "base_url": spec.base_url,
            "public_key": spec.key_b64,
            "found_us": self.clock(),
            "stored": stored.to_json() if stored is not None else None,
            "offered": offered.to_json(),
            "proof": verdict.proof,
        }
        path = self.state.evidence_path(
            origin, verdict.reason, stored.size if stored else 0, offered.size, offered.issued_us
        )
        self.state.keep_evidence(path, evidence)
        self.metrics.forks.labels(origin).inc()
        line = (
            f"fork {origin} {verdict.reason}: {verdict.detail} "
            f"(verified size={stored.size if stored else 0}, offered size={offered.size}; "
            f"evidence {path})"
        )
        log.error("witness: %s", line)
        return Observation("fork", line, origin, evidence=str(path))


# -- evidence --------------------------------------------------------------------------------


def check_evidence(evidence: Any, public_key: bytes | None = None) -> tuple[list[str], list[str]]:
    """Re-check a kept fork evidence file on its own: ``(shown, problems)``.

    ``shown`` says what the evidence proves; ``problems`` why it does not hold (empty: it
    does). With ``public_key`` (raw 32 bytes) the signatures are checked with it, else with
    the key the evidence names. The stored checkpoint must be validly signed; the offered one
    too (except for ``bad-signature``, where its signature must fail); and they must conflict
    as ``kind`` says: same size and another root (or heads_root), a smaller size, or a larger
    size with no consistency proof that verifies (the proof kept is re-verified here with
    ``ledger.merkle``).
    """
    problems: list[str] = []
    if not isinstance(evidence, dict) or evidence.get("format") != EVIDENCE_FORMAT:
        return [], [f"not a {EVIDENCE_FORMAT} object"]
    kind = evidence.get("kind")
    if kind not in FORK_KINDS:
        return [], [f"unknown kind {kind!r}"]
    if public_key is None:
        try:
            public_key = base64.b64decode(str(evidence.get("public_key")), validate=True)
        except (binascii.Error, ValueError):
            return [], ["public_key: not base64"]
    try:
        offered = parse_checkpoint(orjson.dumps(evidence.get("offered")), "offered")
        stored = (
            parse_checkpoint(orjson.dumps(evidence["stored"]), "stored")
            if evidence.get("stored") is not None
            else None
        )
    except CheckpointError as e:
        return [], [str(e)]
    offered_signed = offered.verify_signature(public_key)
    if kind == "bad-signature":
        if offered_signed:
            problems.append("offered: the signature verifies (no bad signature shown)")
        return ["the log served a checkpoint whose signature does not verify"], problems
    if stored is None:
        return [], ["stored: missing (a fork needs the checkpoint verified before)"]
    if not stored.verify_signature(public_key):
        problems.append("stored: signature does not verify")
    if not offered_signed:
        problems.append("offered: signature does not verify")
    if stored.origin != offered.origin:
        problems.append(f"origins differ: {stored.origin} and {offered.origin}")
    shown: list[str] = []
    if kind == "different-root":
        if stored.size != offered.size or stored.root == offered.root:
            problems.append("different-root: the sizes differ or the roots are equal")
        shown.append(f"two signed trees of size {stored.size} with different roots")
    elif kind == "different-heads":
        if (stored.size, stored.root) != (offered.size, offered.root) or (
            stored.heads_root == offered.heads_root
        ):
            problems.append("different-heads: not the same tree with two heads_roots")
        shown.append(f"the tree of size {stored.size} signed with two different heads_roots")
    elif kind == "smaller":
        if offered.size >= stored.size:
            problems.append("smaller: the offered size is not smaller")
        later = offered.issued_us > stored.issued_us
        shown.append(
            f"size {offered.size} published as latest after size {stored.size} was signed"
            + (" (signed later: the log was cut back)" if later else " (an older issue served)")
        )
    else:  # inconsistent
        if offered.size <= stored.size:
            problems.append("inconsistent: the offered size is not larger")
        elif proof_holds(stored, offered, evidence.get("proof")):
            problems.append("inconsistent: the kept proof verifies (no fork shown)")
        shown.append(
            f"no valid proof that size {offered.size} extends the verified size {stored.size}"
        )
    return shown, problems
