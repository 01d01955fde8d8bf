"""Fewer garbage collections while a fold allocates.

Folding a subject allocates many small container objects (a ``RecordedEvent`` and
an ``Entry`` per record, lifecycles, plans, JSON bodies) that mostly live until the
fold ends. With CPython's default thresholds (700 allocations) the cyclic collector
runs thousands of times during a rebuild or the cold read of a long stream, each
time traversing young objects that are all still alive: py-spy measured 30–40 %
of the rebuild's CPU there (149 → 107 µs per event, ``small`` workload, one
process). :func:`fewer_collections` raises the thresholds for the duration of a
block; cyclic garbage (a timeline's entries refer to each other) is still
collected, only less often.

The thresholds are process-wide: nested and concurrent blocks (the API's threads)
share one raise, and the thresholds in force before the first block are restored
when the last one ends with no more young objects alive than their first threshold
allows; else they stay raised until a later block ends so. A block usually ends with
its answer alive (a cold read from a read snapshot: ~13,600 objects, the contributions
of 3,236 score lines), and restoring the thresholds then would collect it at once,
traversing every one of those objects for nothing (the caller frees them soon): py-spy
put 15-20 % of such a read there. Raised thresholds still collect, every 100,000
allocations.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FOLD_THRESHOLDS", "fewer_collections"]

FOLD_THRESHOLDS = (100_000, 20, 100)
"""``gc.set_threshold`` arguments while folding: a young collection every 100,000
net allocations instead of 700."""

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with :data:`FOLD_THRESHOLDS` (module docstring); the previous
    thresholds are back once no block is running and few young objects are alive."""
    global _depth, _saved
    with _lock:
        if _depth == 0 and _saved is None:
            _saved = gc.get_threshold()
            gc.set_threshold(*FOLD_THRESHOLDS)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None and gc.get_count()[0] <= _saved[0]:
                gc.set_threshold(*_saved)
                _saved = None
