"""Bitemporal selection: which records a read sees, and the data it sees them with."""

from __future__ import annotations

from events.instants import parse_instant
from projections.timeline import select
from tests.unit.projections.records import Stream


def _violation(stream: Stream, time: str, **options: object) -> str:
    return stream.add(
        "credit.violation.recorded",
        time,
        {"behaviour": "FOOD-0203", "severity": "general", "sector": "food", "basis": "b", "document": "d"},
        **options,  # type: ignore[arg-type]
    )


def test_known_at_keeps_what_was_recorded_by_then() -> None:
    stream = Stream()
    first = _violation(stream, "2026-01-05T10:00:00+08:00")
    _violation(stream, "2026-01-06T10:00:00+08:00", recorded="2026-03-01T10:00:00+08:00")
    timeline = select(stream.subject, stream.records, None, parse_instant("2026-02-01"))
    assert [e.id for e in timeline] == [first]


def test_as_of_keeps_what_took_effect_by_then() -> None:
    stream = Stream()
    first = _violation(stream, "2026-01-05T10:00:00+08:00")
    _violation(stream, "2026-01-20T10:00:00+08:00")
    assert [e.id for e in select(stream.subject, stream.records, parse_instant("2026-01-10"))] == [
        first
    ]


def test_a_correction_applies_from_its_targets_time_and_later_ones_win() -> None:
    stream = Stream()
    vid = _violation(stream, "2026-01-05T10:00:00+08:00")
    stream.add(
        "credit.record.corrected",
        "2026-03-01T10:00:00+08:00",
        {"target": vid, "changes": {"severity": "serious", "behaviour": "FOOD-0201"}},
    )
    last = stream.add(
        "credit.record.corrected",
        "2026-04-01T10:00:00+08:00",
        {"target": vid, "changes": {"severity": "minor"}},
    )
    # as of 2026-01-10 the corrections had not been made, but they apply from the start
    timeline = select(stream.subject, stream.records, parse_instant("2026-01-10"))
    entry = timeline.get(vid)
    assert entry is not None
    assert (entry.data["severity"], entry.data["behaviour"]) == ("minor", "FOOD-0201")
    assert [c.effective_us for c in entry.corrections] == [entry.time_us, entry.time_us]
    # the ledger showed the first version until the corrections were recorded
    before = select(stream.subject, stream.records, None, parse_instant("2026-02-01")).get(vid)
    assert before is not None and before.data["severity"] == "general"
    # revoking the last correction brings back the one before it
    stream.add("credit.record.revoked", "2026-05-01T10:00:00+08:00", {"target": last, "reason": "x"})
    after = select(stream.subject, stream.records).get(vid)
    assert after is not None and after.data["severity"] == "serious"
    assert stream.records[0].data["severity"] == "general"  # the record itself is untouched


def test_a_revocation_applies_from_the_start_and_a_correction_may_be_corrected() -> None:
    stream = Stream()
    vid = _violation(stream, "2026-01-05T10:00:00+08:00")
    fix = stream.add(
        "credit.record.corrected", "2026-02-01T10:00:00+08:00", {"target": vid, "changes": {"sector": "drugs"}}
    )
    stream.add(
        "credit.record.corrected",
        "2026-02-02T10:00:00+08:00",
        {"target": fix, "changes": {"changes": {"sector": "medical-devices"}}},
    )
    entry = select(stream.subject, stream.records).get(vid)
    assert entry is not None and entry.data["sector"] == "medical-devices"
    stream.add("credit.record.revoked", "2026-06-01T10:00:00+08:00", {"target": vid, "reason": "x"})
    early = select(stream.subject, stream.records, parse_instant("2026-01-06")).get(vid)
    assert early is not None and early.revoked_by is not None
    assert select(stream.subject, stream.records, None, parse_instant("2026-05-01")).get(vid).revoked_by is None  # type: ignore[union-attr]


def test_references_resolve_and_follow_a_corrected_reference() -> None:
    stream = Stream()
    a = _violation(stream, "2026-01-05T10:00:00+08:00")
    b = _violation(stream, "2026-01-06T10:00:00+08:00")
    order = stream.add(
        "credit.rectification.ordered", "2026-01-07T10:00:00+08:00", {"finding": a, "deadline": "2026-02-07"}
    )
    timeline = select(stream.subject, stream.records)
    assert timeline.get(order).refs["finding"].id == a  # type: ignore[union-attr]
    stream.add("credit.record.corrected", "2026-01-08T10:00:00+08:00", {"target": order, "changes": {"finding": b}})
    timeline = select(stream.subject, stream.records)
    assert timeline.get(order).refs["finding"].id == b  # type: ignore[union-attr]
    assert [e.id for e in timeline.get(a).referrers] == []  # type: ignore[union-attr]
    assert order in [e.id for e in timeline.get(b).referrers]  # type: ignore[union-attr]
