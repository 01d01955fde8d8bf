"""The as-of reads the bench measures (:class:`AsOfReader`): the API's read path warm
(:func:`default_reader`) and with nothing cached in the process (:func:`cold_reader`), or,
where those modules are not built, the stream folded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.measurement import optional
from ledger.app import Ledger, fold

__all__ = [
    "AsOfReader",
    "ColdReadsReader",
    "ReadsReader",
    "StandingReader",
    "StreamFoldReader",
    "cold_reader",
    "default_reader",
]


class AsOfReader(Protocol):
    """What an as-of read is: the subject's picture as of valid time ``as_of_us`` as
    known at ``known_at_us``. ``name`` says which implementation is measured."""

    @property
    def name(self) -> str: ...

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object: ...


@dataclass(frozen=True, slots=True)
class StreamFoldReader:
    """``ledger.stream(subject, known_at_us=…)`` then the decision fold of the records
    with ``time_us ≤ as_of_us`` (until the standing projection exists)."""

    name: str = "ledger.stream + ledger.app.fold"

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        records = ledger.stream(subject, known_at_us=known_at_us)
        return fold(subject, (r for r in records if r.time_us <= as_of_us))


@dataclass(frozen=True, slots=True)
class StandingReader:
    """``projections.standing.standing(subject, records, as_of_us, known_at_us, rules)``
    over ``ledger.stream(subject, known_at_us=…)``."""

    standing: Callable[..., object]
    name: str = "ledger.stream + projections.standing.standing"

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        records = ledger.stream(subject, known_at_us=known_at_us)
        return self.standing(subject, records, as_of_us, known_at_us, _rules(ledger))


@dataclass
class ReadsReader:
    """The API's read path: ``projections.reads.Reads(...).standing(subject, as_of_us,
    known_at_us)`` (LIVE mode for a past ``as_of``: a per-subject snapshot kept in
    memory, checked against the stream head with one indexed query per read). The first
    read of a subject (the bench's untimed warm-up) waits for the background fold a read
    snapshot starts, so the timed reads are those of a process that has the subject warm."""

    reads_class: Callable[..., Any]
    name: str = "projections.reads.Reads.standing"
    _reads: dict[int, Any] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        reads = self._reads.get(id(ledger))
        if reads is None:
            reads = self.reads_class(ledger.recorder, _rules(ledger), clock=ledger.clock)
            self._reads[id(ledger)] = reads
        found = reads.standing(subject, as_of_us, known_at_us)
        if subject not in self._seen:  # the warm-up read: let the process warm the subject
            self._seen.add(subject)
            settle = getattr(getattr(reads, "live", None), "settle", None)
            if settle is not None:
                settle()
        return found


def _rules(ledger: Ledger) -> Any:
    return ledger.rule_services()


@dataclass
class ColdReadsReader:
    """The API's read path with nothing cached in the process: each read gets a new
    ``projections.live.LiveReads`` (no per-subject fold kept) behind one
    ``projections.reads.Reads``, so it reads the subject's whole stream from the
    database and folds and evaluates it, as an API process does for a subject it
    has not read yet (PostgreSQL's own buffers are warm: "cold" is the process,
    not the disk)."""

    reads_class: Callable[..., Any]
    live_class: Callable[..., Any]
    name: str = "projections.reads.Reads.standing, new LiveReads per read"
    _reads: dict[int, Any] = field(default_factory=dict)

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        reads = self._reads.get(id(ledger))
        if reads is None:
            reads = self.reads_class(ledger.recorder, _rules(ledger), clock=ledger.clock)
            self._reads[id(ledger)] = reads
        reads.live = self.live_class(reads.recorder, reads.rules, store=reads.store)
        return reads.standing(subject, as_of_us, known_at_us)


def cold_reader() -> AsOfReader:
    """A read with nothing cached in the process (:class:`ColdReadsReader`, the API's
    path) when ``projections.reads`` exists; else the whole stream read and folded
    by ``projections.standing.standing``, else by the decision fold."""
    reads_class = optional("projections.reads", ("Reads",))
    live_class = optional("projections.live", ("LiveReads",))
    if reads_class is not None and live_class is not None:
        return ColdReadsReader(reads_class, live_class)
    fn = optional("projections.standing", ("standing",))
    return StandingReader(fn) if fn is not None else StreamFoldReader()


def default_reader() -> AsOfReader:
    """What the API serves an as-of read with: ``projections.reads.Reads`` when it
    exists, else :func:`cold_reader`."""
    try:
        module = importlib.import_module("projections.reads")
    except ImportError:
        return cold_reader()
    reads_class = getattr(module, "Reads", None)
    return ReadsReader(reads_class) if callable(reads_class) else cold_reader()
