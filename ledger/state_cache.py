"""The writer's cache of subject decision states (``StateCache``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from commands.state import SubjectState

__all__ = ["StateCache"]


class StateCache:
    """A bounded LRU of subject decision states, valid as of ledger size ``synced``.

    Bounded twice: at most ``capacity`` subjects, and at most ``max_records`` records
    folded into them (a state holds the facts of every record of its stream, ~1 KB each,
    so a count of subjects alone does not bound memory: subjects' histories grow). The
    least recently used states are evicted first; the state just put is always kept.
    A state's records are counted when it is put (the ledger puts every state it wrote
    after each commit; one brought forward in place is counted again at its next put).

    Before use in a write session the cache is brought to the session's head:
    streams that received records since ``synced`` are marked stale (or, after a
    large gap, everything is dropped).
    """

    def __init__(self, capacity: int, max_records: int | None = None) -> None:
        self.capacity = capacity
        self.max_records = max_records
        self.synced = 0
        self._states: OrderedDict[UUID, SubjectState] = OrderedDict()
        self._counted: dict[UUID, int] = {}
        self.records = 0
        """Records folded into the cached states, as counted when each was put."""
        self.stale: set[UUID] = set()
        """Cached streams that received records from another writer since they were
        cached: their state is brought forward from its version before use."""

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: UUID) -> SubjectState | None:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def holds(self, key: UUID) -> bool:
        """Whether the state of ``key`` is cached and not stale."""
        return key in self._states and key not in self.stale

    def put(self, key: UUID, state: SubjectState) -> None:
        states = self._states
        states[key] = state
        states.move_to_end(key)
        size = len(state.events)
        self.records += size - self._counted.get(key, 0)
        self._counted[key] = size
        budget = self.max_records
        while len(states) > self.capacity or (
            budget is not None and self.records > budget and len(states) > 1
        ):
            self._forget(states.popitem(last=False)[0])

    def mark_stale(self, keys: Iterable[UUID]) -> None:
        self.stale.update(k for k in keys if k in self._states)

    def drop(self, keys: Iterable[UUID]) -> None:
        for key in keys:
            if self._states.pop(key, None) is not None:
                self._forget(key)

    def clear(self) -> None:
        self._states.clear()
        self._counted.clear()
        self.records = 0
        self.stale.clear()

    def _forget(self, key: UUID) -> None:
        """The bookkeeping of a state no longer cached."""
        self.records -= self._counted.pop(key, 0)
        self.stale.discard(key)
