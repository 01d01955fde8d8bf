"""Group commit (``ledger.commit_queue``, ``ledger.group_plan``): concurrent submits in
one process share transactions, and each caller gets what a sequential submit would
have given it. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from events.envelope import parse_submission
from events.reasons import Reason
from ledger import group_plan
from ledger.app import Ledger, Outcome
from tests.unit.events.samples import SAMPLES

VIOLATION = SAMPLES["credit.violation.recorded"]
OBJECTION = SAMPLES["credit.objection.filed"]
ID_REUSED = str(Reason.ID_REUSED)
SUBJECTS = ["91440300708461136T", "91440300MA5DABCD50", "91440300MA5DEFGH6R"]


def violation(n: int, subject: str = SUBJECTS[0], **changes: Any) -> dict[str, Any]:
    return dict(VIOLATION, id=f"v-{n}", subject=subject, **changes)


def submit_one(ledger: Ledger, event: dict[str, Any], **kwargs: Any) -> Outcome:
    (outcome,) = ledger.submit(parse_submission(orjson.dumps(event)), **kwargs)
    return outcome


def in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (released together); their results or exceptions, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(k: int) -> None:
        barrier.wait()
        try:
            results[k] = calls[k]()
        except Exception as e:
            results[k] = e

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.fixture
def transactions(ledger: Ledger) -> Iterator[list[int]]:
    """The number of records each write transaction committed, counted as they end;
    the first one holds its lock a little, so that the others queue behind it."""
    sizes: list[int] = []
    write = ledger.recorder.write

    def counting(*args: Any, **kwargs: Any) -> Any:
        import contextlib

        @contextlib.contextmanager
        def session() -> Iterator[Any]:
            with write(*args, **kwargs) as s:
                if not sizes:
                    threading.Event().wait(0.3)
                yield s
                sizes.append(len(s.rows))

        return session()

    ledger.recorder.write = counting  # type: ignore[method-assign]
    yield sizes
    del ledger.recorder.write


def check_chain(ledger: Ledger) -> None:
    positions = []
    for subject in SUBJECTS:
        stream = ledger.stream(subject)
        assert [r.seq for r in stream] == list(range(1, len(stream) + 1))
        assert all(b.prev == a.hash for a, b in itertools.pairwise(stream))
        positions += [r.position for r in stream]
    assert sorted(positions) == list(range(ledger.size()))


def test_many_callers_share_transactions_and_lose_nothing(
    ledger: Ledger, transactions: list[int]
) -> None:
    calls = [(lambda k=k: submit_one(ledger, violation(k, SUBJECTS[k % 3]))) for k in range(24)]
    outcomes = in_threads(calls)
    assert [o.status for o in outcomes] == ["recorded"] * 24
    assert sum(transactions) == 24
    assert len(transactions) < 24  # callers that waited shared a commit
    check_chain(ledger)
    for o in outcomes:  # each caller got its own record
        assert ledger.stream(o.record.subject)[o.record.seq - 1].id == o.id


def test_duplicates_across_callers_get_the_sequential_answers(
    ledger: Ledger, transactions: list[int]
) -> None:
    first = submit_one(ledger, violation(0))  # recorded before the group
    calls = [lambda: submit_one(ledger, violation(0))] * 3  # repeats of a recorded event
    calls += [lambda: submit_one(ledger, violation(1))] * 4  # the same new event, 4 callers
    calls += [lambda: submit_one(ledger, violation(1, time="2024-02-01T10:00:00+08:00"))]
    outcomes = in_threads(calls)
    assert all(o.status == "repeat" and o.record == first.record for o in outcomes[:3])
    (recorded,) = [o for o in outcomes[3:] if o.status == "recorded"]
    same, changed = outcomes[3:7], outcomes[7]
    if recorded is changed:  # the changed one came first: the others reuse its id
        assert all(o.code == ID_REUSED for o in same)
    else:
        assert changed.code == ID_REUSED
        assert sorted(o.status for o in same) == ["recorded", "repeat", "repeat", "repeat"]
        assert all(o.record == recorded.record for o in same)
    assert [r.id for r in ledger.stream(SUBJECTS[0])] == ["v-0", "v-1"]
    check_chain(ledger)


def test_one_callers_invalid_event_never_fails_another(
    ledger: Ledger, transactions: list[int]
) -> None:
    dangling = dict(OBJECTION, id="o-1", data=dict(OBJECTION["data"], target="nothing"))
    calls = [lambda k=k: submit_one(ledger, violation(k)) for k in range(6)]
    calls += [lambda: submit_one(ledger, dangling)]
    calls += [lambda: ledger.submit(parse_submission(b"[{]"))]
    outcomes = in_threads(calls)
    assert [o.status for o in outcomes[:6]] == ["recorded"] * 6
    assert outcomes[6].status == "rejected"
    assert [o.status for o in outcomes[7]] == ["rejected"]
    assert len(ledger.stream(SUBJECTS[0])) == 6
    check_chain(ledger)


def test_a_failing_caller_fails_alone_and_its_group_leaves_nothing_half_written(
    ledger: Ledger, transactions: list[int]
) -> None:
    def refuse(outcomes: list[Outcome]) -> None:
        raise RuntimeError("dead-letter topic unreachable")

    calls = [lambda k=k: submit_one(ledger, violation(k)) for k in range(6)]
    calls.append(lambda: submit_one(ledger, violation(99), before_commit=refuse))
    outcomes = in_threads(calls)
    assert [o.status for o in outcomes[:6]] == ["recorded"] * 6
    assert isinstance(outcomes[6], RuntimeError)
    ids = [r.id for r in ledger.stream(SUBJECTS[0])]
    assert sorted(ids) == sorted(f"v-{k}" for k in range(6))
    check_chain(ledger)


def test_a_subject_that_moved_before_the_lock_is_decided_again(
    ledger: Ledger, store_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer records on the subject between the plan and the lock: the
    planned rejection (a reference to an unknown event) becomes an acceptance, and
    the planned acceptance is appended after the other writer's record."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.settings import Settings

    other = bootstrap(Settings(database_url=store_url, person_secret_file=tmp_path / "person.key"))
    planned = group_plan.plan

    def plan_then_other_writer(*args: Any, **kwargs: Any) -> group_plan.Plan:
        result = planned(*args, **kwargs)
        monkeypatch.setattr(group_plan, "plan", planned)
        assert submit_one(other, VIOLATION).status == "recorded"
        return result

    monkeypatch.setattr(group_plan, "plan", plan_then_other_writer)
    outcomes = ledger.submit(parse_submission(orjson.dumps([OBJECTION, violation(1)])))
    assert [o.status for o in outcomes] == ["recorded", "recorded"]
    assert [r.id for r in ledger.stream(SUBJECTS[0])] == [VIOLATION["id"], OBJECTION["id"], "v-1"]
    check_chain(ledger)
    other.recorder.datastore.close()  # type: ignore[attr-defined]


def test_an_id_recorded_on_another_subject_before_the_lock_is_answered_in_one_transaction(
    ledger: Ledger, store_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer records the same (source, id) on another subject between the plan
    and the lock: the event is answered id-reused, as a sequential submit would answer
    it, from the records the lock's round trip brought (no failed append, no retry), and
    its own subject gets nothing."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.settings import Settings

    other = bootstrap(Settings(database_url=store_url, person_secret_file=tmp_path / "person.key"))
    planned = group_plan.plan

    def plan_then_other_writer(*args: Any, **kwargs: Any) -> group_plan.Plan:
        result = planned(*args, **kwargs)
        monkeypatch.setattr(group_plan, "plan", planned)
        assert submit_one(other, violation(1, SUBJECTS[1])).status == "recorded"
        return result

    writes = []
    write = ledger.recorder.write

    def counted(*args: Any, **kwargs: Any) -> Any:
        writes.append(1)
        return write(*args, **kwargs)

    monkeypatch.setattr(group_plan, "plan", plan_then_other_writer)
    monkeypatch.setattr(ledger.recorder, "write", counted)
    outcome = submit_one(ledger, violation(1))
    assert (outcome.status, outcome.code) == ("rejected", ID_REUSED)
    assert len(writes) == 1
    assert ledger.stream(SUBJECTS[0]) == []
    check_chain(ledger)
    other.recorder.datastore.close()  # type: ignore[attr-defined]


def test_a_cached_subject_another_writer_moved_is_decided_on_its_new_records(
    ledger: Ledger, store_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer whose cached subject another writer extended decides its next events on
    the records the lock's round trip brought (no read before the lock): an objection to
    the other writer's violation is recorded after it, and that violation resubmitted is
    a repeat."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.settings import Settings

    other = bootstrap(Settings(database_url=store_url, person_secret_file=tmp_path / "person.key"))
    assert submit_one(ledger, violation(1)).status == "recorded"  # its state is cached
    assert submit_one(other, VIOLATION).status == "recorded"
    reads = []
    read = ledger.recorder.read

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return read(*args, **kwargs)

    monkeypatch.setattr(ledger.recorder, "read", counted)
    assert submit_one(ledger, OBJECTION).status == "recorded"
    assert submit_one(ledger, VIOLATION).status == "repeat"
    assert reads == []
    assert [r.id for r in ledger.stream(SUBJECTS[0])] == ["v-1", VIOLATION["id"], OBJECTION["id"]]
    check_chain(ledger)
    other.recorder.datastore.close()  # type: ignore[attr-defined]


def test_a_writer_whose_record_budget_evicted_a_subject_decides_on_it_from_the_store(
    store_url: str, tmp_path: Any
) -> None:
    """``LEDGER_CACHE_RECORDS`` bounds the records held in the writer's decision states:
    a subject evicted for it is loaded again, and decided exactly as if it were cached
    (its violation resubmitted is a repeat, an objection to it is recorded)."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.settings import Settings

    ledger = bootstrap(
        Settings(database_url=store_url, person_secret_file=tmp_path / "p.key", cache_records=2)
    )
    try:
        assert submit_one(ledger, VIOLATION).status == "recorded"
        first = ledger.stream(SUBJECTS[0])[0].originator_id
        assert ledger.cache.holds(first)
        for n, subject in enumerate(SUBJECTS[1:]):
            assert submit_one(ledger, violation(n, subject)).status == "recorded"
            assert submit_one(ledger, violation(10 + n, subject)).status == "recorded"
        assert not ledger.cache.holds(first)
        assert ledger.cache.records == 2
        assert submit_one(ledger, VIOLATION).status == "repeat"
        assert submit_one(ledger, OBJECTION).status == "recorded"
        assert [r.id for r in ledger.stream(SUBJECTS[0])] == [VIOLATION["id"], OBJECTION["id"]]
        check_chain(ledger)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
