"""Read snapshots (``projections.read_snapshot``): a cold as-of read of a long stream
of findings and commitments answers from the stored score lines exactly as a fold of
the stream does, at every ``as_of`` (stretch boundaries included) — also with
corrections, revocations and fulfilments referring to earlier records — and a snapshot
the ledger no longer backs, of another format, or older than the stream is not used
(both stores)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.workloads import subject_code
from entrypoints.rule_files import load_rules
from events.codes import subject_stream_id
from events.envelope import parse_submission
from events.instants import CST, to_us
from ledger.app import Ledger
from ledger.store.tables import READ_SNAPSHOTS_TABLE
from projections import read_snapshot
from projections.live import LiveReads
from projections.score import scored_records
from projections.standing import standing
from projections.timeline import select
from tests.integration.streams import cloud_event

START = datetime(2022, 3, 1, 9, 0, tzinfo=CST)
NOW = to_us(datetime(2026, 1, 5, 9, 0, tzinfo=CST))
SOURCES = ("samr/440300", "tax/440300")


def _simple_stream(subject: str, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` events of the kinds a snapshot serves: findings, commitments with their
    ends, corrections (of the severity too) and revocations, each reference naming an
    earlier record."""
    rng = random.Random(seed)
    findings: list[tuple[str, str]] = []
    commitments: list[tuple[str, str]] = []
    out: list[dict[str, Any]] = []
    moment = START
    for i in range(n):
        moment += timedelta(days=rng.randint(1, 9))
        event_id = f"rs-{seed}-{i:05d}"
        source = rng.choice(SOURCES)
        roll = rng.random()
        data: dict[str, Any]
        if roll < 0.45 or not findings:
            severity = rng.choice(["general", "general", "serious"])
            kind = rng.choice(["credit.penalty.decided", "credit.violation.recorded"])
            if kind == "credit.penalty.decided":
                data = {
                    "kinds": ["fine"],
                    "amount": f"{rng.randint(10, 900) * 100}.00",
                    "procedure": "ordinary",
                    "severity": severity,
                    "sector": rng.choice(["food", "work-safety"]),
                    "basis": "《中华人民共和国行政处罚法》第二十八条",
                    "document": f"罚〔{moment.year}〕{i}号",
                }
            else:
                data = {
                    "behaviour": f"B-{rng.randint(100, 999)}",
                    "severity": severity,
                    "sector": "food",
                    "basis": "《中华人民共和国行政处罚法》第二十八条",
                    "document": f"认〔{moment.year}〕{i}号",
                }
            findings.append((event_id, source))
        elif roll < 0.62:
            kind = "credit.commitment.made"
            due = moment + timedelta(days=rng.randint(5, 90))
            data = {
                "commitment_type": "voluntary",
                "matter": "承诺书",
                "due": due.date().isoformat() if rng.random() < 0.5 else None,
            }
            commitments.append((event_id, source))
        elif roll < 0.74 and commitments:
            target, source = commitments.pop(rng.randrange(len(commitments)))
            kind = rng.choice(
                [
                    "credit.commitment.fulfilled",
                    "credit.commitment.breached",
                    "credit.commitment.withdrawn",
                ]
            )
            data = {"commitment": target}
            if kind == "credit.commitment.breached":
                data["kind"] = "unfulfilled"
        elif roll < 0.88:
            target, source = rng.choice(findings)
            kind = "credit.record.corrected"
            changes = (
                {"severity": rng.choice(["general", "serious"])}
                if rng.random() < 0.5
                else {"document": f"更正〔{moment.year}〕{i}号"}
            )
            data = {"target": target, "changes": changes}
        else:
            target, source = rng.choice(findings)
            kind, data = "credit.record.revoked", {"target": target, "reason": "认定有误"}
        out.append(cloud_event(event_id, source, kind, subject, moment.isoformat(), data))
    return out


def _submit(ledger: Ledger, events: list[dict[str, Any]], now_us: int) -> int:
    outcomes = ledger.submit(parse_submission(orjson.dumps(events)), now_us=now_us)
    return sum(o.status == "recorded" for o in outcomes)


def _instants(ledger: Ledger, subject: str) -> list[int]:
    """Every instant at which a reading may change, each with its neighbours."""
    timeline = select(subject, ledger.stream(subject))
    points: set[int] = set()
    for entry in timeline.entries:
        points.add(entry.effective_us)
    for item in scored_records(timeline, ledger.rule_services()):
        points.update(item.marks)
    return sorted({p + d for p in points for d in (-1, 0, 1)})


def _fresh(ledger: Ledger) -> LiveReads:
    return LiveReads(ledger.recorder, ledger.rule_services(), snapshot_records=1)


def _assert_snapshot_answers(ledger: Ledger, subject: str, known_at_us: int | None) -> None:
    records = ledger.stream(subject)
    rules = ledger.rule_services()
    for as_of in _instants(ledger, subject):
        live = _fresh(ledger)
        got = live.standing(subject, as_of, known_at_us).to_json()
        assert live.served_from_snapshot
        assert got == standing(subject, records, as_of, known_at_us, rules).to_json()


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_a_snapshot_answers_as_the_fold_at_every_instant(ledger: Ledger, seed: int) -> None:
    subject = subject_code(seed + 100, 7)
    recorded = _submit(ledger, _simple_stream(subject, 60, seed), NOW)
    assert recorded > 30
    first = _fresh(ledger)
    first.standing(subject, NOW)  # folds (no snapshot yet) and writes one
    assert not first.served_from_snapshot
    _assert_snapshot_answers(ledger, subject, None)
    _assert_snapshot_answers(ledger, subject, NOW + 1)


def test_records_after_the_snapshot_are_answered_by_the_fold(ledger: Ledger) -> None:
    subject = subject_code(7, 7)
    events = _simple_stream(subject, 80, 3)
    assert _submit(ledger, events[:60], NOW) > 30
    _fresh(ledger).standing(subject, NOW)
    # later records touching earlier ones: a correction, a revocation, a commitment's end
    assert _submit(ledger, events[60:], NOW + 1_000_000) > 0
    records = ledger.stream(subject)
    rules = ledger.rule_services()
    for as_of in _instants(ledger, subject)[::7]:
        live = _fresh(ledger)
        got = live.standing(subject, as_of).to_json()
        want = standing(subject, records, as_of, None, rules).to_json()
        assert got == want
    # the first of those reads folded the longer stream and stored its snapshot
    _assert_snapshot_answers(ledger, subject, None)
    # known at a moment before the snapshot's head: the fold of what was known then
    older = _fresh(ledger)
    as_of = records[len(records) // 2].time_us
    got = older.standing(subject, as_of, NOW).to_json()
    assert not older.served_from_snapshot
    assert got == standing(subject, records, as_of, NOW, rules).to_json()


def _stored(ledger: Ledger, subject: str) -> tuple[str, Any]:
    store = ledger.recorder.store
    return store.table(READ_SNAPSHOTS_TABLE), store.id_param(subject_stream_id(subject))


def test_a_snapshot_the_ledger_does_not_back_or_of_another_format_is_ignored(
    ledger: Ledger,
) -> None:
    subject = subject_code(8, 7)
    assert _submit(ledger, _simple_stream(subject, 50, 5), NOW) > 20
    _fresh(ledger).standing(subject, NOW)
    records = ledger.stream(subject)
    rules = ledger.rule_services()
    as_of = records[-1].time_us
    want = standing(subject, records, as_of, None, rules).to_json()
    live = _fresh(ledger)
    assert live.standing(subject, as_of).to_json() == want
    assert live.served_from_snapshot

    store = ledger.recorder.store
    table, key = _stored(ledger, subject)
    with store.transaction() as cursor:  # a head the ledger does not hold
        cursor.execute(
            store.sql(f"UPDATE {table} SET head = %s WHERE originator_id = %s"), (b"\0" * 32, key)
        )
    live = _fresh(ledger)
    assert live.standing(subject, as_of).to_json() == want
    assert not live.served_from_snapshot  # and it folded and wrote a good one again
    live = _fresh(ledger)
    assert live.standing(subject, as_of).to_json() == want
    assert live.served_from_snapshot

    with store.transaction() as cursor:  # format 1: the effective times and commitments in JSON
        cursor.execute(store.sql(f"SELECT body FROM {table} WHERE originator_id = %s"), (key,))
        header = orjson.loads(bytes(cursor.fetchone()[0]).partition(b"\n")[0])
        header |= {"format": 1, "effective_times": [], "commitments": []}
        cursor.execute(
            store.sql(f"UPDATE {table} SET body = %s WHERE originator_id = %s"),
            (orjson.dumps(header), key),
        )
    live = _fresh(ledger)
    assert live.standing(subject, as_of).to_json() == want
    assert not live.served_from_snapshot


def test_a_process_served_from_the_snapshot_warms_the_subject_for_its_next_reads(
    ledger: Ledger,
) -> None:
    subject = subject_code(11, 7)
    assert _submit(ledger, _simple_stream(subject, 50, 11), NOW) > 20
    _fresh(ledger).standing(subject, NOW)  # writes the read snapshot
    records = ledger.stream(subject)
    rules = ledger.rule_services()
    as_of = records[len(records) // 2].time_us
    want = standing(subject, records, as_of, None, rules).to_json()

    live = LiveReads(ledger.recorder, rules, snapshot_records=1, warm_after_snapshot=True)
    assert live.standing(subject, as_of).to_json() == want
    assert live.served_from_snapshot  # the first read: from the snapshot, fold started
    live.settle()
    assert live.standing(subject, as_of).to_json() == want
    assert not live.served_from_snapshot  # then from the fold in memory

    cold = _fresh(ledger)  # without warming, every read goes to the snapshot
    for _ in range(2):
        assert cold.standing(subject, as_of).to_json() == want
        assert cold.served_from_snapshot
    cold.settle()  # nothing to wait for


def test_a_stream_a_snapshot_cannot_serve_gets_none(ledger: Ledger) -> None:
    subject = subject_code(9, 7)
    events = _simple_stream(subject, 40, 9)
    revoked = {e["data"]["target"] for e in events if e["type"] == "credit.record.revoked"}
    finding = next(
        e for e in events if e["type"] == "credit.penalty.decided" and e["id"] not in revoked
    )
    objection = {
        **finding,
        "id": "rs-objection",
        "type": "credit.objection.filed",
        "time": events[-1]["time"],
        "data": {"target": finding["id"], "grounds": "认定有误"},
    }
    assert _submit(ledger, events, NOW) > 20
    [outcome] = ledger.submit(parse_submission(orjson.dumps([objection])), now_us=NOW)
    assert outcome.status == "recorded", outcome
    _fresh(ledger).standing(subject, NOW)
    records = ledger.stream(subject)
    live = _fresh(ledger)
    got = live.standing(subject, NOW).to_json()
    assert not live.served_from_snapshot
    assert got == standing(subject, records, NOW, None, ledger.rule_services()).to_json()


def test_a_snapshot_of_other_rules_or_code_is_ignored(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = subject_code(10, 7)
    assert _submit(ledger, _simple_stream(subject, 50, 11), NOW) > 20
    _fresh(ledger).standing(subject, NOW)
    records = ledger.stream(subject)
    want = standing(subject, records, NOW, None, ledger.rule_services()).to_json()
    for name in ("rules_digest", "code_digest"):
        with monkeypatch.context() as patched:
            patched.setattr(read_snapshot, name, lambda *_: "another")
            live = LiveReads(ledger.recorder, ledger.rule_services(), snapshot_records=None)
            assert live.standing(subject, NOW).to_json() == want
            assert not live.served_from_snapshot
    assert read_snapshot.rules_digest(load_rules()) == read_snapshot.rules_digest(load_rules())


def test_records_after_the_snapshot_naming_nothing_earlier_are_folded_on_top(
    ledger: Ledger,
) -> None:
    subject = subject_code(11, 7)
    events = _simple_stream(subject, 110, 13)
    assert _submit(ledger, events[:60], NOW) > 30
    _fresh(ledger).standing(subject, NOW)
    independent = [
        e
        for e in events[60:]
        if e["type"] in {"credit.penalty.decided", "credit.violation.recorded"}
        or e["type"] == "credit.commitment.made"
    ]
    assert _submit(ledger, independent, NOW + 1_000_000) >= 10
    _assert_snapshot_answers(ledger, subject, None)
    _assert_snapshot_answers(ledger, subject, NOW + 2_000_000)
    # a record naming one before the snapshot (a commitment kept): the stream is folded
    named = {str(v) for e in events[:60] for v in e["data"].values()}
    made = next(
        e for e in events[:60] if e["type"] == "credit.commitment.made" and e["id"] not in named
    )
    kept = {
        **made,
        "id": "rs-kept",
        "type": "credit.commitment.fulfilled",
        "data": {"commitment": made["id"]},
    }
    assert _submit(ledger, [kept], NOW + 3_000_000) == 1
    live = _fresh(ledger)
    records = ledger.stream(subject)
    got = live.standing(subject, NOW + 4_000_000).to_json()
    assert not live.served_from_snapshot
    rules = ledger.rule_services()
    assert got == standing(subject, records, NOW + 4_000_000, None, rules).to_json()
    _assert_snapshot_answers(ledger, subject, None)  # that fold took it again


def test_a_snapshot_answers_the_commitments_open_at_the_instant_asked(ledger: Ledger) -> None:
    subject = subject_code(12, 7)

    def event(event_id: str, kind: str, day: int, data: dict[str, Any]) -> dict[str, Any]:
        return cloud_event(
            event_id, SOURCES[0], kind, subject, (START + timedelta(days=day)).isoformat(), data
        )

    made = {"commitment_type": "voluntary", "matter": "承诺书", "due": None}
    events = [
        *(  # findings to score beside them
            e
            for e in _simple_stream(subject, 10, 21)
            if e["type"] in {"credit.penalty.decided", "credit.violation.recorded"}
        ),
        event("rs-closed-early", "credit.commitment.made", 100, made),
        event("rs-closed-late", "credit.commitment.made", 101, made),
        event(
            "rs-kept-early", "credit.commitment.fulfilled", 110, {"commitment": "rs-closed-early"}
        ),
        event("rs-kept-late", "credit.commitment.fulfilled", 200, {"commitment": "rs-closed-late"}),
    ]
    assert _submit(ledger, events, NOW) == len(events)
    _fresh(ledger).standing(subject, NOW)  # writes the read snapshot
    records = ledger.stream(subject)
    rules = ledger.rule_services()
    for day, want_open in ((105, {"rs-closed-early", "rs-closed-late"}), (150, {"rs-closed-late"})):
        as_of = to_us(START + timedelta(days=day))
        live = _fresh(ledger)
        got = live.standing(subject, as_of).to_json()
        assert live.served_from_snapshot
        assert {c["event_id"] for c in got["open_commitments"]} == want_open
        assert got == standing(subject, records, as_of, None, rules).to_json()
    live = _fresh(ledger)
    assert live.standing(subject, to_us(START + timedelta(days=250))).open_commitments == ()
    assert live.served_from_snapshot
