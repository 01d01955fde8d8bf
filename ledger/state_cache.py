"""The writer's cache of subject decision states (``StateCache``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from commands.state import SubjectState

__all__ = ["StateCache"]


class StateCache:
    """A bounded LRU of subject decision states, valid as of ledger size ``synced``.

    Before use in a write session the cache is brought to the session's head:
    streams that received records since ``synced`` are marked stale (or, after a
    large gap, everything is dropped).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.synced = 0
        self._states: OrderedDict[UUID, SubjectState] = OrderedDict()
        self.stale: set[UUID] = set()
        """Cached streams that received records from another writer since they were
        cached: their state is brought forward from its version before use."""

    def get(self, key: UUID) -> SubjectState | None:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def holds(self, key: UUID) -> bool:
        """Whether the state of ``key`` is cached and not stale."""
        return key in self._states and key not in self.stale

    def put(self, key: UUID, state: SubjectState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self.capacity:
            evicted, _ = self._states.popitem(last=False)
            self.stale.discard(evicted)

    def mark_stale(self, keys: Iterable[UUID]) -> None:
        self.stale.update(k for k in keys if k in self._states)

    def drop(self, keys: Iterable[UUID]) -> None:
        for key in keys:
            self._states.pop(key, None)
            self.stale.discard(key)

    def clear(self) -> None:
        self._states.clear()
        self.stale.clear()
