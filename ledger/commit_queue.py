"""Group commit: callers that arrive while a write is in flight share the next one.

:class:`CommitQueue` is a leader/follower queue. The first caller becomes the leader:
it takes every waiting request that may share a transaction with its own
(``compatible``), runs them as one group (``run_group``), and hands the leadership to
the oldest request still waiting. The others (followers) sleep until their request is
done or they are made leader. ``run_group`` gives each request its own result (it
stores it on the request); an exception escaping it is given to every request of the
group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["CommitQueue"]

T = TypeVar("T")


@dataclass(eq=False)
class _Slot(Generic[T]):
    request: T
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    error: BaseException | None = None


class CommitQueue(Generic[T]):
    """Runs requests in groups, one group at a time (module docstring).

    ``max_group`` bounds how many requests one group takes (the rest wait for the next).
    """

    def __init__(
        self,
        run_group: Callable[[list[T]], None],
        compatible: Callable[[T, T], bool],
        *,
        max_group: int = 256,
    ) -> None:
        self._run_group = run_group
        self._compatible = compatible
        self._max_group = max_group
        self._lock = threading.Lock()
        self._waiting: list[_Slot[T]] = []
        self._leading = False

    def run(self, request: T) -> None:
        """Return once ``request`` has been run (alone or in a group); raise what
        ``run_group`` raised for its group."""
        slot = _Slot(request)
        with self._lock:
            self._waiting.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.wake.wait()
            if slot.done:
                if slot.error is not None:
                    raise slot.error
                return
        self._lead(slot)
        if slot.error is not None:
            raise slot.error

    def _lead(self, own: _Slot[T]) -> None:
        with self._lock:
            group = [own]
            rest = []
            for slot in self._waiting:
                if slot is own:
                    continue
                if len(group) < self._max_group and self._compatible(own.request, slot.request):
                    group.append(slot)
                else:
                    rest.append(slot)
            self._waiting = rest
        try:
            self._run_group([slot.request for slot in group])
        except BaseException as e:
            for slot in group:
                slot.error = e
        finally:
            with self._lock:
                if self._waiting:
                    self._waiting[0].wake.set()  # the next leader
                else:
                    self._leading = False
            for slot in group:
                slot.done = True
                if slot is not own:
                    slot.wake.set()
