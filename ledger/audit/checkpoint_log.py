"""The checkpoint log: every signed checkpoint, kept outside the database it vouches for
(AUDIT-FORMAT.md, Clarifications, "Checkpoint log" and "Rollback").

A store can be rewritten by whoever holds the database: records, hashes, Merkle nodes and
the checkpoint rows together, and then it verifies against itself. The log is what such a
rewrite cannot reach: a directory (``LEDGER_CHECKPOINT_LOG``) holding one file per signed
checkpoint, ``<size>-<issued_us>.json`` (the published JSON, with ``signature``), and, when
Kafka is configured, the same JSON on a topic (``LEDGER_KAFKA_CHECKPOINT_TOPIC``) that other
parties may keep.

Guarantees:

* :meth:`CheckpointLog.write` puts a file in place atomically (temporary file, fsync,
  rename, fsync of the directory) and never replaces a different checkpoint of the same
  name; :func:`~ledger.audit.checkpoints.issue_checkpoint` calls it before the database
  commit that records the checkpoint, so no checkpoint is issued that the log lacks.
* :func:`store_conflict` says why a store's tree is not consistent with a published
  checkpoint (smaller, or another history: the RFC 9162 consistency proof built from the
  store fails against the published root), or None.
* :func:`check_store` checks a store against every checkpoint of the log of its origin (or
  one given checkpoint): signatures when the key is known, one root per size, and the
  store's tree consistent with the newest; it is what ``ledger verify`` and ``ledger
  restore`` run after the whole-store recheck.

Checkpoints of another origin in the log are skipped (after a rollback that could not be
repaired the operator starts a new origin, and the old origin's final checkpoint stays in
the log).
"""

from __future__ import annotations

import contextlib
import os
import re
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import orjson

from events.reasons import Reason
from ledger import merkle
from ledger.audit.checkpoints import Checkpoint, CheckpointError, node_getter
from ledger.audit.format import CHECKPOINT_SIGNED_KEYS
from ledger.audit.verify_outcome import Failure, VerifyReport
from ledger.store import describe
from ledger.store.recorder import LedgerSQL

__all__ = [
    "CheckpointLog",
    "CheckpointRefused",
    "LogCheck",
    "check_store",
    "load_checkpoint",
    "parse_checkpoint",
    "store_conflict",
    "verify_published",
]

_NAME = re.compile(r"^(\d+)-(\d+)\.json$")
DEFAULT_TOPIC = "credit.checkpoints"


class CheckpointRefused(CheckpointError):
    """The ledger refuses to sign: its tree is not consistent with a published checkpoint.
    ``reason`` is :attr:`Reason.BEHIND_PUBLISHED` (the store holds fewer records than the
    published checkpoint: rolled back or records removed) or :attr:`Reason.FORKS_PUBLISHED`
    (the store holds another history)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class CheckpointPublishError(CheckpointError):
    """The checkpoint was issued and is in the log directory, but could not be sent to the
    Kafka topic (the message says why)."""


# -- the published JSON --------------------------------------------------------------------


def parse_checkpoint(data: bytes, where: str) -> Checkpoint:
    """The checkpoint in published JSON ``data`` (a checkpoint object, or any object with
    one under ``checkpoint``: a bundle, a proof, an API answer).

    Raises:
        CheckpointError: not JSON, or not a checkpoint (``where`` names the source).
    """
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise CheckpointError(f"{where}: not a checkpoint (not JSON: {e})") from e
    if isinstance(obj, dict) and isinstance(obj.get("checkpoint"), dict):
        obj = obj["checkpoint"]
    if (
        not isinstance(obj, dict)
        or not set(CHECKPOINT_SIGNED_KEYS) <= set(obj)
        or "signature" not in obj
    ):
        raise CheckpointError(
            f"{where}: not a checkpoint (an object with {', '.join(CHECKPOINT_SIGNED_KEYS)} and signature)"
        )
    origin, size, root, issued, heads, sig = (
        obj["origin"],
        obj["size"],
        obj["root"],
        obj["issued_us"],
        obj["heads_root"],
        obj["signature"],
    )
    hexes = all(isinstance(h, str) and re.fullmatch(r"[0-9a-f]{64}", h) for h in (root, heads))
    ints = all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (size, issued))
    if not (isinstance(origin, str) and isinstance(sig, str) and hexes and ints):
        raise CheckpointError(f"{where}: not a checkpoint (a key has the wrong type or form)")
    return Checkpoint(origin, size, root, issued, heads, sig)


def load_checkpoint(source: str, *, timeout_s: float = 10.0) -> Checkpoint:
    """The checkpoint published at ``source``: a file path, a ``file:`` URL or an
    ``http(s):`` URL (e.g. another copy's ``/v1/checkpoints/latest``).

    Raises:
        CheckpointError: it cannot be read or is not a checkpoint.
    """
    scheme = urlparse(source).scheme
    try:
        if scheme in ("http", "https"):
            with urllib.request.urlopen(source, timeout=timeout_s) as answer:
                data = answer.read(1 << 20)
        else:
            path = unquote(urlparse(source).path) if scheme == "file" else source
            data = Path(path).read_bytes()
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{source}: cannot read the checkpoint: {e}") from e
    return parse_checkpoint(data, source)


# -- the log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointLog:
    """The directory of published checkpoints, and the Kafka topic when configured.

    ``producer`` makes the Kafka producer (built on first use; tests may hand in one)."""

    directory: Path
    kafka_bootstrap: str | None = None
    kafka_topic: str = DEFAULT_TOPIC
    kafka_timeout_s: float = 10.0
    producer: Callable[[], Any] | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls,
        configured: Path | None,
        database_url: str,
        kafka_bootstrap: str | None = None,
        kafka_topic: str = DEFAULT_TOPIC,
    ) -> CheckpointLog | None:
        """The log in ``configured`` (``LEDGER_CHECKPOINT_LOG``) or its default for
        ``database_url`` (:func:`checkpoint_log_dir`); None for an in-memory store without
        one (it vanishes with its process: a log kept for it would only hold checkpoints
        of ledgers that no longer exist). The composition root hands in the settings."""
        directory = checkpoint_log_dir(configured, database_url)
        if directory is None:
            return None
        return cls(directory, kafka_bootstrap, kafka_topic)

    # -- writing ---------------------------------------------------------------------------

    def path_of(self, cp: Checkpoint) -> Path:
        return self.directory / f"{cp.size}-{cp.issued_us}.json"

    def write(self, cp: Checkpoint) -> Path:
        """Put ``cp`` in the directory (atomically, durably); return its path.

        Raises:
            CheckpointError: the file cannot be written, or the name holds another checkpoint.
        """
        data = orjson.dumps(cp.to_json(), option=orjson.OPT_SORT_KEYS) + b"\n"
        path = self.path_of(cp)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if path.exists():
                if parse_checkpoint(path.read_bytes(), str(path)) == cp:
                    return path
                raise CheckpointError(
                    f"{path} already holds another checkpoint of size {cp.size} issued at "
                    f"{cp.issued_us}; refusing to replace a published checkpoint"
                )
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fsync_dir(self.directory)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise CheckpointError(
                f"cannot write checkpoint {cp.size} to the checkpoint log {self.directory}: {e}; "
                "the checkpoint is not issued"
            ) from e
        return path

    def announce(self, cp: Checkpoint) -> None:
        """Send ``cp`` to the Kafka topic (key: origin) when Kafka is configured; waits for
        the broker's acknowledgement (at most ``kafka_timeout_s`` for each step).

        Raises:
            CheckpointPublishError: the broker did not take it.
        """
        if not self.kafka_bootstrap:
            return
        from kafka.errors import KafkaError

        from ledger.producers import feed_producer

        try:
            producer = (
                self.producer()
                if self.producer is not None
                else feed_producer(
                    self.kafka_bootstrap,
                    client_id="credit-ledger-checkpoints",
                    bootstrap_timeout_ms=int(self.kafka_timeout_s * 1000),
                    max_block_ms=int(self.kafka_timeout_s * 1000),
                    request_timeout_ms=int(self.kafka_timeout_s * 1000),
                )
            )
            try:
                value = orjson.dumps(cp.to_json(), option=orjson.OPT_SORT_KEYS)
                producer.send(self.kafka_topic, key=cp.origin.encode(), value=value).get(
                    timeout=self.kafka_timeout_s
                )
            finally:
                producer.close()
        except (KafkaError, OSError) as e:
            raise CheckpointPublishError(
                f"checkpoint {cp.size} was issued and written to {self.path_of(cp)}, but not "
                f"sent to Kafka topic {self.kafka_topic!r}: {e!r}"
            ) from e

    # -- reading ---------------------------------------------------------------------------

    def names(self) -> list[tuple[int, int, Path]]:
        """``(size, issued_us, path)`` of every checkpoint file, oldest first (other files
        in the directory are ignored)."""
        if not self.directory.is_dir():
            return []
        found = []
        for entry in os.scandir(self.directory):
            m = _NAME.match(entry.name)
            if m and entry.is_file():
                found.append((int(m[1]), int(m[2]), Path(entry.path)))
        return sorted(found)

    def read(self, path: Path) -> Checkpoint:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise CheckpointError(f"cannot read {path}: {e}") from e
        cp = parse_checkpoint(data, str(path))
        if path.name != f"{cp.size}-{cp.issued_us}.json":
            raise CheckpointError(f"{path}: holds checkpoint {cp.size}-{cp.issued_us}")
        return cp

    def checkpoints(self, origin: str) -> tuple[list[Checkpoint], int]:
        """Every logged checkpoint of ``origin``, oldest first, and how many files of other
        origins were skipped.

        Raises:
            CheckpointError: a checkpoint file cannot be read or is not a checkpoint.
        """
        ours: list[Checkpoint] = []
        others = 0
        for _, _, path in self.names():
            cp = self.read(path)
            if cp.origin == origin:
                ours.append(cp)
            else:
                others += 1
        return ours, others

    def newest(self, origin: str) -> Checkpoint | None:
        """The logged checkpoint of ``origin`` of the largest size (then the latest issued),
        or None. Reads files from the newest name down until one is of ``origin``."""
        for _, _, path in reversed(self.names()):
            cp = self.read(path)
            if cp.origin == origin:
                return cp
        return None


def checkpoint_log_dir(configured: Path | None, database_url: str) -> Path | None:
    """``configured`` (``LEDGER_CHECKPOINT_LOG``), or its default: ``checkpoints/`` beside the SQLite file
    (none for an in-memory one); for PostgreSQL ``./checkpoints/DATABASE.SCHEMA/`` in the
    working directory (one log per ledger, so that two ledgers run from one directory never
    share a log)."""
    if configured is not None:
        return configured
    address = describe(database_url)
    if address.kind == "sqlite":
        return None if address.path is None else address.path.parent / "checkpoints"
    return Path("checkpoints") / _safe(f"{address.dbname}.{address.schema}")


def _safe(name: str) -> str:
    """``name`` usable as one directory name (no separators, no leading dot)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "ledger"


def fsync_dir(directory: Path) -> None:
    """Make a rename or creation in ``directory`` durable (fsync of the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the store against what was published ----------------------------------------------------


def store_conflict(
    recorder: LedgerSQL, cursor: Any, published: Checkpoint, size: int | None = None
) -> CheckpointRefused | None:
    """Why the store's tree of ``size`` records (default: all) is not consistent with the
    ``published`` checkpoint, or None when it is: the store holds at least its records and
    the RFC 9162 consistency proof from ``published.size`` to ``size``, built from the
    store's Merkle nodes, verifies against the published root and the store's root."""
    if size is None:
        size = recorder.ledger_size(cursor)
    where = f"the published checkpoint of size {published.size:,} (root {published.root})"
    if size < published.size:
        return CheckpointRefused(
            Reason.BEHIND_PUBLISHED,
            f"the ledger holds {size:,} records, but {where} covers {published.size:,}: records "
            f"{size}..{published.size - 1} are missing (removed, or the store was restored to an "
            "earlier state); the ledger cannot sign until it holds them again",
        )
    wanted = {
        *merkle.frontier(size),
        *merkle.frontier(published.size),
        *merkle.consistency_nodes(published.size, size),
    }
    node = node_getter(recorder.tree_nodes(cursor, wanted))
    root = merkle.root_from_frontier(size, node)
    proof = merkle.consistency_proof(published.size, size, node)
    if merkle.verify_consistency(published.size, size, bytes.fromhex(published.root), root, proof):
        return None
    ours = merkle.root_from_frontier(published.size, node).hex()
    return CheckpointRefused(
        Reason.FORKS_PUBLISHED,
        f"the ledger's tree is not consistent with {where}: the root of its first "
        f"{published.size:,} records is {ours}; records before position {published.size} were "
        "rewritten (or this store is another ledger)",
    )


@dataclass
class LogCheck:
    """What :func:`check_store` found: the checkpoints it checked the store against,
    the newest of them, the first conflict, and warnings."""

    checked: int = 0
    newest: Checkpoint | None = None
    conflict: str | None = None
    reason: Reason | None = None
    """:attr:`Reason.BEHIND_PUBLISHED` when the only conflict is that the store holds fewer
    records than the newest checkpoint (every published root it can be checked against
    matched): a rolled-back store; :attr:`Reason.FORKS_PUBLISHED` for another history."""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.conflict is None


def check_store(
    recorder: LedgerSQL,
    cursor: Any,
    *,
    origin: str,
    log: CheckpointLog | None,
    given: Sequence[Checkpoint] = (),
    public_key: bytes | None = None,
) -> LogCheck:
    """Check the store against the published checkpoints: ``given`` ones if any, else every
    checkpoint of ``origin`` in ``log``. Each must carry a valid signature (when
    ``public_key`` is known) and be of ``origin``; two of one size must have one root; the
    store must hold the newest and be consistent with it, and its root at every other
    published size must be the published one. Never raises for bad data."""
    check = LogCheck()
    published: list[Checkpoint] = list(given)
    if not published:
        if log is None:
            return check
        try:
            published, others = log.checkpoints(origin)
        except CheckpointError as e:
            check.conflict = f"checkpoint log {log.directory}: {e}"
            return check
        if others:
            check.warnings.append(
                f"{others} checkpoints of other origins in {log.directory} were not checked"
            )
        if not published:
            check.warnings.append(
                f"the checkpoint log {log.directory} holds no checkpoint of {origin!r}: the "
                "store was checked only against itself"
            )
            return check
    for cp in published:
        if cp.origin != origin:
            check.conflict = f"checkpoint {cp.size} is of origin {cp.origin!r}, not {origin!r}"
            return check
        if public_key is not None and not cp.verify_signature(public_key):
            check.conflict = (
                f"the published checkpoint {cp.size}-{cp.issued_us}: the signature does not "
                "verify under the ledger's public key"
            )
            return check
    roots: dict[int, str] = {}
    for cp in published:
        if roots.setdefault(cp.size, cp.root) != cp.root:
            check.conflict = (
                f"the published checkpoints of size {cp.size:,} have two roots ({roots[cp.size]} "
                f"and {cp.root}): the ledger signed two histories"
            )
            return check
    newest = max(published, key=lambda cp: (cp.size, cp.issued_us))
    check.newest = newest
    try:
        size = recorder.ledger_size(cursor)
        refused = store_conflict(recorder, cursor, newest, size)
        if refused is None or refused.reason == Reason.BEHIND_PUBLISHED:
            refused = _other_roots(recorder, cursor, roots, min(newest.size, size + 1)) or refused
    except LookupError as e:
        check.conflict = f"the store lacks a Merkle node to check the published checkpoints: {e}"
        return check
    if refused is not None:
        check.conflict = str(refused)
        check.reason = refused.reason
        return check
    check.checked = len(published)
    return check


def _other_roots(
    recorder: LedgerSQL, cursor: Any, roots: dict[int, str], newest: int
) -> CheckpointRefused | None:
    """The store's root at each published size (below ``newest``) is the published one."""
    sizes = sorted(s for s in roots if 0 < s < newest)
    for part in _chunks(sizes, 256):
        node = node_getter(
            recorder.tree_nodes(cursor, {n for s in part for n in merkle.frontier(s)})
        )
        for s in part:
            ours = merkle.root_from_frontier(s, node).hex()
            if ours != roots[s]:
                return CheckpointRefused(
                    Reason.FORKS_PUBLISHED,
                    f"the published checkpoint of size {s:,} has root {roots[s]}, the ledger's "
                    f"first {s:,} records have root {ours}: records before position {s} were "
                    "rewritten",
                )
    return None


def _chunks(items: Sequence[int], n: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def verify_published(
    recorder: LedgerSQL,
    report: VerifyReport,
    *,
    origin: str,
    log: CheckpointLog | None,
    given: Sequence[Checkpoint] = (),
    public_key: bytes | None = None,
    allow_behind: bool = False,
) -> None:
    """After :func:`~ledger.audit.verify.verify_store` found ``report`` ok: check the store
    against the published checkpoints (:func:`check_store`) and put the outcome in
    ``report`` (a failure of check ``published``, warnings, figures). With
    ``allow_behind``, a store that is only behind the newest published checkpoint (a
    consistent earlier state) gets a warning instead of the failure."""
    if not report.ok:
        return
    with recorder.audit_reader() as cursor:
        check = check_store(
            recorder, cursor, origin=origin, log=log, given=given, public_key=public_key
        )
    report.warnings.extend(check.warnings)
    report.published = check.checked
    report.published_size = check.newest.size if check.newest is not None else None
    if check.conflict is not None:
        if allow_behind and check.reason == Reason.BEHIND_PUBLISHED:
            report.warnings.append(check.conflict)
        else:
            report.failure = Failure("published", check.conflict)
