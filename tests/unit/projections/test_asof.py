"""The folds agree with themselves across the two clocks (hypothesis).

* A timeline of everything known, read at ``as_of``, answers exactly what a
  timeline selected at ``as_of`` answers: the LIVE reads and the materialised
  views rely on it.
* A standing holds, apart from its ``as_of``, until its ``next_change``.
* Memoised disclosure items equal freshly rendered ones; plans survive JSON.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints import rule_files
from events.recorded import RecordedEvent
from projections.disclosure import disclosure_of
from projections.disclosure_item import ItemPlan, render
from projections.disclosure_plans import plans_of
from projections.standing import standing_of
from projections.timeline import Timeline, select
from tests.unit.projections.strategies import histories, instants

RULES = rule_files.load_rules()
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


@st.composite
def history_and_instants(draw: st.DrawFn) -> tuple[list[RecordedEvent], int, int | None]:
    records = draw(histories())
    as_of = draw(instants(records))
    known_at = draw(st.one_of(st.none(), instants(records)))
    return records, as_of, known_at


@SETTINGS
@given(history_and_instants())
def test_everything_known_read_at_as_of_equals_selection_at_as_of(
    case: tuple[list[RecordedEvent], int, int | None],
) -> None:
    records, as_of, known_at = case
    subject = records[0].subject
    everything = select(subject, records, None, known_at)
    selected = select(subject, records, as_of, known_at)
    assert standing_of(everything, as_of, RULES).to_json() == (
        standing_of(selected, as_of, RULES).to_json()
    )
    assert disclosure_of(everything, as_of, RULES).to_json() == (
        disclosure_of(selected, as_of, RULES).to_json()
    )


@SETTINGS
@given(histories(), st.data())
def test_a_standing_holds_until_its_next_change(
    records: list[RecordedEvent], data: st.DataObject
) -> None:
    timeline = select(records[0].subject, records)
    first = max(r.time_us for r in records)
    as_of = data.draw(st.integers(first, first + 3 * 365 * 86_400_000_000))
    before = standing_of(timeline, as_of, RULES)
    horizon = before.next_change_us or as_of + 5 * 365 * 86_400_000_000
    later = data.draw(st.integers(as_of, horizon - 1))
    after = standing_of(timeline, later, RULES)
    assert _without(after.to_json(), "as_of") == _without(before.to_json(), "as_of")
    if before.next_change_us is not None:
        changed = standing_of(timeline, before.next_change_us, RULES)
        assert changed.to_json() != before.to_json()


@SETTINGS
@given(histories(), st.lists(st.integers(0, 10**6), min_size=1, max_size=6))
def test_memoised_items_equal_fresh_renders_and_plans_survive_json(
    records: list[RecordedEvent], steps: list[int]
) -> None:
    timeline = Timeline(records[0].subject).extend(records)
    low = min(r.time_us for r in records)
    high = max(r.recorded_us for r in records) + 400 * 86_400_000_000
    for step in steps:
        as_of = low + (high - low) * step // 10**6
        cached = disclosure_of(timeline, as_of, RULES).items
        plans = plans_of(timeline, RULES)
        fresh = [i for p in plans if (i := render(p, as_of)) is not None]
        assert list(cached) == fresh
        again = [
            i for p in plans if (i := render(ItemPlan.from_json(p.to_json()), as_of)) is not None
        ]
        assert again == fresh


@SETTINGS
@given(histories(), st.data())
def test_many_reads_through_one_memoised_timeline_equal_fresh_folds(
    records: list[RecordedEvent], data: st.DataObject
) -> None:
    subject = records[0].subject
    shared = select(subject, records)
    for as_of in data.draw(st.lists(instants(records), min_size=2, max_size=8)):
        fresh = select(subject, records, as_of)
        assert standing_of(shared, as_of, RULES).to_json() == (
            standing_of(fresh, as_of, RULES).to_json()
        )
        assert disclosure_of(shared, as_of, RULES).to_json() == (
            disclosure_of(fresh, as_of, RULES).to_json()
        )
