"""The writer's cache of decision states is bounded in subjects and in records."""

from __future__ import annotations

from uuid import UUID

from commands.state import EventFacts, SubjectState
from ledger.state_cache import StateCache


def _state(subject: str, records: int) -> SubjectState:
    state = SubjectState(subject, version=records)
    for n in range(records):
        state.events[f"e{n}"] = EventFacts(f"e{n}", "credit.violation.recorded", "src", 0, n, {})
    return state


def _key(n: int) -> UUID:
    return UUID(int=n)


def test_the_least_recently_used_subjects_go_when_their_records_exceed_the_budget() -> None:
    cache = StateCache(capacity=100, max_records=10)
    for n in range(3):
        cache.put(_key(n), _state(f"s{n}", 4))
    assert [cache.holds(_key(n)) for n in range(3)] == [False, True, True]
    assert (len(cache), cache.records) == (2, 8)

    assert cache.get(_key(1)) is not None  # used: now the most recent
    cache.put(_key(3), _state("s3", 4))
    assert [cache.holds(_key(n)) for n in range(4)] == [False, True, False, True]
    assert cache.records == 8


def test_a_state_put_again_is_counted_at_its_new_size() -> None:
    cache = StateCache(capacity=100, max_records=10)
    state = _state("s0", 3)
    cache.put(_key(0), state)
    cache.put(_key(1), _state("s1", 3))
    state.events["more"] = EventFacts("more", "credit.violation.recorded", "src", 0, 4, {})
    for n in range(5, 10):
        state.events[f"e{n}"] = EventFacts(f"e{n}", "credit.violation.recorded", "src", 0, n, {})
    cache.put(_key(0), state)  # 9 records now: s1 (3) must go
    assert (cache.holds(_key(0)), cache.holds(_key(1)), cache.records) == (True, False, 9)


def test_one_subject_larger_than_the_budget_is_still_kept() -> None:
    cache = StateCache(capacity=100, max_records=10)
    cache.put(_key(0), _state("s0", 2))
    cache.put(_key(1), _state("big", 50))
    assert (len(cache), cache.holds(_key(1)), cache.records) == (1, True, 50)


def test_dropped_and_cleared_states_leave_the_count() -> None:
    cache = StateCache(capacity=2)
    for n in range(3):
        cache.put(_key(n), _state(f"s{n}", 5))
    assert (len(cache), cache.records) == (2, 10)  # the subject bound alone
    cache.mark_stale([_key(2)])
    cache.drop([_key(2), _key(7)])
    assert (len(cache), cache.records, cache.stale) == (1, 5, set())
    cache.clear()
    assert (len(cache), cache.records) == (0, 0)
