"""Every fold is total over what the door admits (issue 16, item 1): histories moved
to the very start or the very end of the accepted range (1949-10-01 … 2199-12-31,
DOMAIN.md), with date fields at the range's extremes (``valid_until`` 2199-12-31,
``due`` 1949-10-01 …), fold, read at any instant of the range, without an exception:
standing, disclosure (plans and rendering), lifecycles, history, the timeline and
its selections, and list membership. The same holds over the widest range the
settings accept (1900-01-01 … 9000-12-31), and for date fields anywhere in the years
1–9999 (records admitted before the range was enforced).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints import rule_files
from events.dates import DEFAULT_RANGE, WIDEST_RANGE, DateRange
from events.instants import CST
from events.recorded import RecordedEvent
from events.vocabulary import DATE_FIELDS
from projections.disclosure import disclosure_of
from projections.disclosure_item import ItemPlan, render
from projections.disclosure_plans import plans_of
from projections.history import history
from projections.membership import membership_rows
from projections.standing import standing_of
from projections.timeline import Timeline, select
from tests.unit.projections.strategies import histories

RULES = rule_files.load_rules()


def _day_of(us: int) -> str:
    return (
        (datetime(1970, 1, 1, tzinfo=CST) + timedelta(microseconds=us, hours=8)).date().isoformat()
    )


@st.composite
def extreme_histories(
    draw: st.DrawFn, dates: DateRange = DEFAULT_RANGE, fields: tuple[str, str] | None = None
) -> list[RecordedEvent]:
    """A history (strategies.histories) moved so that it starts at the first instant of
    the range or ends at its last one, its date fields moved with it (clamped to the
    range) or set to one of the range's two ends, or to null where a type allows it."""
    first_us, last_us = dates.first_us, dates.last_us
    first_day, last_day = fields or (dates.first.isoformat(), dates.last.isoformat())
    records = draw(histories(max_size=25))
    at_start = draw(st.booleans())
    low = min(r.time_us for r in records)
    high = max(max(r.recorded_us, r.time_us) for r in records)
    shift = first_us - low if at_start else last_us - high
    shift_days = shift // 86_400_000_000
    out = []
    for record in records:
        data = dict(record.data)
        for holder in (data, data.get("changes")):
            if not isinstance(holder, dict):
                continue
            for name in DATE_FIELDS & holder.keys():
                value = holder[name]
                choice = draw(st.sampled_from(["moved", "first", "last"]))
                if choice == "first":
                    holder[name] = first_day
                elif choice == "last":
                    holder[name] = last_day
                elif isinstance(value, str):
                    moved = datetime.fromisoformat(value) + timedelta(days=shift_days)
                    # kept inside the range the door holds it to
                    holder[name] = min(max(moved.date().isoformat(), first_day), last_day)
        if record.type == "credit.commitment.made" and draw(st.booleans()):
            data["due"] = draw(st.sampled_from([first_day, last_day]))
        time_us = min(max(record.time_us + shift, first_us), last_us)
        recorded_us = min(max(record.recorded_us + shift, time_us), last_us)
        out.append(
            dataclasses.replace(
                record,
                data=data,
                time_us=time_us,
                time=datetime.fromtimestamp(time_us / 1e6, CST).isoformat(),
                recorded_us=recorded_us,
            )
        )
    # recording times never go back in a stream
    for i in range(1, len(out)):
        if out[i].recorded_us < out[i - 1].recorded_us:
            out[i] = dataclasses.replace(out[i], recorded_us=out[i - 1].recorded_us)
    return out


def _read_at(dates: DateRange) -> st.SearchStrategy[int]:
    ends = [dates.first_us, dates.first_us + 1, dates.last_us - 1, dates.last_us]
    return st.sampled_from(ends) | st.integers(dates.first_us, dates.last_us)


@pytest.mark.parametrize(
    ("dates", "fields"),
    [
        (DEFAULT_RANGE, None),
        (WIDEST_RANGE, None),
        # date fields recorded before the range existed (e.g. 9999-12-31): the folds
        # saturate rather than overflow, so such a subject still folds
        (DEFAULT_RANGE, ("0001-01-01", "9999-12-31")),
    ],
    ids=["default", "widest", "legacy-fields"],
)
def test_every_fold_is_total_at_the_ends_of_the_range(
    dates: DateRange, fields: tuple[str, str] | None
) -> None:
    read_at = _read_at(dates)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(extreme_histories(dates, fields), read_at, st.one_of(st.none(), read_at))
    def check(records: list[RecordedEvent], as_of: int, known_at: int | None) -> None:
        _fold_everything(records, as_of, known_at, dates.first_us, dates.last_us)

    check()


def _fold_everything(
    records: list[RecordedEvent], as_of: int, known_at: int | None, first_us: int, last_us: int
) -> None:
    subject = records[0].subject
    everything = Timeline(subject).extend(records)
    for at in (as_of, first_us, last_us, max(everything.recorded_us, everything.max_time_us)):
        standing = standing_of(everything, at, RULES)
        body: dict[str, Any] = standing.to_json()
        assert body["subject"] == subject
        disclosure_of(everything, at, RULES).to_json()
    for plan in plans_of(everything, RULES):
        assert ItemPlan.from_json(plan.to_json()) == plan
        for at in (as_of, first_us, last_us):
            render(plan, at)
        plan.public_intervals()
    membership_rows(everything)
    selected = select(subject, records, as_of, known_at)
    standing_of(selected, as_of, RULES).to_json()
    disclosure_of(selected, as_of, RULES).to_json()
    membership_rows(selected)
    shown = history(subject, records, as_of, known_at, RULES)
    shown.to_json()
    shown.text()


def test_the_strategy_reaches_both_ends() -> None:
    """The property above is only as strong as its data: both ends occur."""
    seen: set[str] = set()
    first_day, last_day = DEFAULT_RANGE.first.isoformat(), DEFAULT_RANGE.last.isoformat()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(extreme_histories())
    def look(records: list[RecordedEvent]) -> None:
        days = {_day_of(r.time_us) for r in records}
        dates = {
            v
            for r in records
            for holder in (r.data, r.data.get("changes"))
            if isinstance(holder, dict)
            for k, v in holder.items()
            if k in DATE_FIELDS
        }
        for end in (first_day, last_day):
            if end in days:
                seen.add(f"time {end}")
            if end in dates:
                seen.add(f"date {end}")

    look()
    assert seen == {f"{kind} {end}" for kind in ("time", "date") for end in (first_day, last_day)}
