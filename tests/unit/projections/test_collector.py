"""``projections.collector.fewer_collections``: raised while any block runs, restored after."""

from __future__ import annotations

import gc
import threading

import pytest

from projections.collector import FOLD_THRESHOLDS, fewer_collections


@pytest.fixture(autouse=True)
def _restored() -> None:
    """Start from the thresholds restored (an earlier block in this process may have
    left them raised, ending with many young objects alive)."""
    gc.collect()
    with fewer_collections():
        pass


def test_thresholds_are_raised_inside_and_restored_after_nested_blocks() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == FOLD_THRESHOLDS
        with fewer_collections():
            assert gc.get_threshold() == FOLD_THRESHOLDS
        assert gc.get_threshold() == FOLD_THRESHOLDS
    assert gc.get_threshold() == before


def test_thresholds_are_restored_when_the_block_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("fold failed")
    assert gc.get_threshold() == before


def test_overlapping_blocks_in_threads_restore_the_thresholds_once_both_end() -> None:
    before = gc.get_threshold()
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with fewer_collections():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with fewer_collections():
        thread.start()
        entered.wait(5)
    assert gc.get_threshold() == FOLD_THRESHOLDS  # the other thread's block still runs
    release.set()
    thread.join(5)
    assert gc.get_threshold() == before


def test_a_block_that_ends_with_many_young_objects_alive_leaves_them_uncollected() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        answer = [[i] for i in range(5 * before[0])]  # alive after the block
    # Restoring now would collect them at once. (Whether a young collection then runs
    # is not asserted: another thread of the test process may allocate meanwhile.)
    assert gc.get_threshold() == FOLD_THRESHOLDS
    del answer
    with fewer_collections():
        pass
    assert gc.get_threshold() == before  # restored once a block ends without them
