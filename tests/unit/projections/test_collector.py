"""``projections.collector.fewer_collections``: raised while any block runs, restored after."""

from __future__ import annotations

import gc
import threading

import pytest

from projections.collector import FOLD_THRESHOLDS, fewer_collections


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
