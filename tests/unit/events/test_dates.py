"""The one accepted range of dates and instants (DOMAIN.md: 1949-10-01 … 2199-12-31)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from events.dates import DEFAULT_RANGE, DateRange, add_days, date_range, use_date_range
from events.envelope import parse_event
from events.instants import InvalidInstant, parse_instant
from events.reasons import InvalidEvent, Reason
from events.vocabulary import DATE_FIELDS
from tests.unit.events.samples import SAMPLES


def sample(type_name: str, **data: Any) -> dict[str, Any]:
    obj = copy.deepcopy(SAMPLES[type_name])
    obj["data"].update(data)
    return obj


def refusal(obj: dict[str, Any]) -> Any:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(obj)
    return caught.value.rejection


@pytest.fixture
def narrow_range() -> Iterator[DateRange]:
    narrow = DateRange(date(2000, 1, 1), date(2030, 12, 31))
    use_date_range(narrow)
    yield narrow
    use_date_range(DEFAULT_RANGE)


# Every field some type declares a date, with a type that carries it.
DATE_FIELD_TYPES = {
    "due": "credit.commitment.made",
    "deadline": "credit.rectification.ordered",
    "planned_end": "credit.list.proposed",
    "until": "credit.measure.applied",
    "valid_until": "credit.evaluation.published",
}


def test_every_date_field_is_covered() -> None:
    assert set(DATE_FIELD_TYPES) == DATE_FIELDS


@pytest.mark.parametrize(("field", "type_name"), sorted(DATE_FIELD_TYPES.items()))
@pytest.mark.parametrize("day", ["9999-12-31", "2200-01-01", "1949-09-30", "0001-01-01"])
def test_a_date_field_outside_the_range_is_refused(field: str, type_name: str, day: str) -> None:
    got = refusal(sample(type_name, **{field: day}))
    assert got.code == Reason.DATE_OUT_OF_RANGE
    assert f"data.{field}" in got.message
    assert day in got.message
    assert "1949-10-01 … 2199-12-31" in got.message
    assert "null" in got.message  # says how to write an open end
    assert got.details["path"] == f"data.{field}"


@pytest.mark.parametrize(("field", "type_name"), sorted(DATE_FIELD_TYPES.items()))
@pytest.mark.parametrize("day", ["1949-10-01", "2199-12-31"])
def test_a_date_field_at_the_ends_of_the_range_is_accepted(
    field: str, type_name: str, day: str
) -> None:
    assert parse_event(sample(type_name, **{field: day})).data[field] == day


@pytest.mark.parametrize("type_name", ["credit.record.corrected", "credit.objection.resolved"])
@pytest.mark.parametrize("field", sorted(DATE_FIELD_TYPES))
def test_a_date_inside_changes_is_held_to_the_range(type_name: str, field: str) -> None:
    extra = {"outcome": "upheld"} if type_name == "credit.objection.resolved" else {}
    got = refusal(sample(type_name, changes={field: "9999-12-31"}, **extra))
    assert got.code == Reason.DATE_OUT_OF_RANGE
    assert f"data.changes.{field}" in got.message
    assert "1949-10-01 … 2199-12-31" in got.message
    ok = parse_event(sample(type_name, changes={field: "2199-12-31"}, **extra))
    assert ok.data["changes"] == {field: "2199-12-31"}


@pytest.mark.parametrize(
    "time",
    [
        "1949-09-30T23:59:59.999999+08:00",
        "1949-09-30T15:59:59Z",
        "2200-01-01T00:00:00+08:00",
        "2199-12-31T16:00:00Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ],
)
def test_a_time_outside_the_range_is_refused(time: str) -> None:
    obj = copy.deepcopy(SAMPLES["credit.violation.recorded"])
    obj["time"] = time
    got = refusal(obj)
    assert got.code == Reason.DATE_OUT_OF_RANGE
    assert got.message.startswith(f"time {time!r}")
    assert "1949-10-01 … 2199-12-31" in got.message


def test_the_configured_range_is_the_one_applied(narrow_range: DateRange) -> None:
    assert date_range() == narrow_range
    got = refusal(sample("credit.measure.applied", until="2031-01-01"))
    assert got.code == Reason.DATE_OUT_OF_RANGE
    assert "2000-01-01 … 2030-12-31" in got.message
    obj = copy.deepcopy(SAMPLES["credit.violation.recorded"])
    obj["time"] = "1999-12-31T23:59:59+08:00"
    assert refusal(obj).code == Reason.DATE_OUT_OF_RANGE
    with pytest.raises(InvalidInstant) as caught:
        parse_instant("2031-01-01")
    assert caught.value.reason == Reason.DATE_OUT_OF_RANGE


def test_the_settings_carry_the_range_with_the_domain_default() -> None:
    from entrypoints.settings import Settings

    assert Settings().date_range == DEFAULT_RANGE
    assert DEFAULT_RANGE.text == "1949-10-01 … 2199-12-31"
    assert Settings(date_first=date(2000, 1, 1)).date_range.first == date(2000, 1, 1)
    with pytest.raises(ValueError, match="must be ordered"):
        Settings(date_first=date(2300, 1, 1))


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "0001-01-01",
        "1949-09-30",
        "2200-01-01T00:00:00+08:00",
    ],
)
def test_an_instant_outside_the_range_is_out_of_range(text: str) -> None:
    with pytest.raises(InvalidInstant) as caught:
        parse_instant(text)
    assert caught.value.reason == Reason.DATE_OUT_OF_RANGE
    assert str(caught.value).startswith(f"{text!r} is outside the dates the ledger accepts")


@pytest.mark.parametrize("text", ["2026-13-01", "abc", "2025-02-30", "2025-03-01T10:00:00"])
def test_an_unparsable_instant_is_invalid(text: str) -> None:
    with pytest.raises(InvalidInstant) as caught:
        parse_instant(text)
    assert caught.value.reason == Reason.INVALID_INSTANT


def test_the_ends_of_the_range_are_accepted_instants() -> None:
    assert parse_instant("1949-10-01T00:00:00+08:00") == DEFAULT_RANGE.first_us
    assert parse_instant("2199-12-31") == DEFAULT_RANGE.last_us


def test_add_days_saturates_instead_of_overflowing() -> None:
    assert add_days(date(2199, 12, 31), 1) == date(2200, 1, 1)
    assert add_days(date(9999, 12, 30), 5) == date.max
    assert add_days(date(1, 1, 2), -5) == date.min
