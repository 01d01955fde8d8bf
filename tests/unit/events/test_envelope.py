"""The CloudEvents envelope: parse_event, time normalisation, to_cloudevent."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.envelope import Envelope, parse_event, to_cloudevent
from events.reasons import InvalidEvent, Reason
from events.rfc3339 import format_time_us, parse_time
from tests.unit.events.samples import SAMPLES, SOURCE, SUBJECT

PENALTY = SAMPLES["credit.penalty.decided"]


def event(**changes: Any) -> dict[str, Any]:
    """A deep copy of the penalty sample with attributes replaced (None deletes)."""
    out = copy.deepcopy(PENALTY)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def with_data(**fields: Any) -> dict[str, Any]:
    out = event()
    out["data"].update(fields)
    return out


def refused(obj: object) -> Any:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(obj)
    return caught.value.rejection


# -- good events ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_parses(name: str) -> None:
    sample = SAMPLES[name]
    env = parse_event(sample)
    assert isinstance(env, Envelope)
    assert (env.id, env.source, env.type, env.subject) == (sample["id"], sample["source"], name, SUBJECT)
    assert env.data is sample["data"]  # exactly as submitted, not a model dump
    assert env.schema_version == 1
    assert env.time.endswith("Z")


def test_samples_have_unique_ids_and_one_per_type() -> None:
    ids = [s["id"] for s in SAMPLES.values()]
    assert len(set(ids)) == len(ids)
    assert all(s["type"] == name for name, s in SAMPLES.items())


def test_extension_attributes_are_ignored() -> None:
    env = parse_event(event(traceparent="00-abc", dataschema="https://x", agencyname="深圳"))
    assert env == parse_event(event())


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_content_types(content_type: str) -> None:
    assert parse_event(event(datacontenttype=content_type))


def test_content_type_may_be_absent_or_null() -> None:
    assert parse_event(event(datacontenttype=None))
    assert parse_event({**event(), "datacontenttype": None})


def test_round_trip_through_to_cloudevent() -> None:
    env = parse_event(event(time="2024-01-20T10:00:00.25+08:00", extension="x"))
    ce = to_cloudevent(env)
    assert ce == {
        "specversion": "1.0",
        "id": PENALTY["id"],
        "source": SOURCE,
        "type": "credit.penalty.decided",
        "subject": SUBJECT,
        "time": "2024-01-20T02:00:00.250000Z",
        "datacontenttype": "application/json",
        "data": PENALTY["data"],
    }
    assert parse_event(ce) == env


# -- time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_time", "normalised", "us"),
    [
        ("2024-01-20T10:00:00+08:00", "2024-01-20T02:00:00Z", 1705716000_000000),
        ("2024-01-20T02:00:00Z", "2024-01-20T02:00:00Z", 1705716000_000000),
        ("2024-01-20t02:00:00z", "2024-01-20T02:00:00Z", 1705716000_000000),
        ("2024-01-20T02:00:00-00:00", "2024-01-20T02:00:00Z", 1705716000_000000),
        ("2024-01-20T01:00:00+08:00", "2024-01-19T17:00:00Z", 1705683600_000000),
        ("2024-01-19T21:30:00-05:30", "2024-01-20T03:00:00Z", 1705719600_000000),
        ("2024-01-20T10:00:00.000000+08:00", "2024-01-20T02:00:00Z", 1705716000_000000),
        ("2024-01-20T10:00:00.5+08:00", "2024-01-20T02:00:00.500000Z", 1705716000_500000),
        ("2024-01-20T10:00:00.000001Z", "2024-01-20T10:00:00.000001Z", 1705744800_000001),
        ("2024-01-20T10:00:00.123456789Z", "2024-01-20T10:00:00.123456Z", 1705744800_123456),
        ("1970-01-01T08:00:00+08:00", "1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z", -1_000000),
        ("1949-10-01T00:00:00+08:00", "1949-09-30T16:00:00Z", -639129600_000000),
        ("2199-12-31T23:59:59.999999+08:00", "2199-12-31T15:59:59.999999Z", 7258089599_999999),
    ],
)
def test_time_is_normalised_to_utc(given_time: str, normalised: str, us: int) -> None:
    env = parse_event(event(time=given_time))
    assert (env.time, env.time_us) == (normalised, us)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("2024-01-20", "bare date"),
        ("2024-01-20T10:00:00", "no UTC offset"),
        ("2024-01-20T10:00", "no UTC offset"),
        ("2024-01-20 10:00:00+08:00", "'T'"),
        ("yesterday", "RFC 3339"),
        ("2024-02-30T10:00:00Z", "real date"),
        ("2024-01-20T24:00:00Z", "real time"),
        ("2016-12-31T23:59:60Z", "leap second"),
        ("2024-01-20T10:00:00+25:00", "offset"),
        ("2024-01-20T10:00:00+0800", "RFC 3339"),
        ("0000-01-01T00:00:00Z", "real date"),
        ("２024-01-20T10:00:00Z", "RFC 3339"),
    ],
)
def test_bad_times(bad: str, words: str) -> None:
    got = refused(event(time=bad))
    assert got.code == Reason.INVALID_TIME
    assert words in got.message


@given(
    st.datetimes(
        min_value=datetime(1949, 10, 3), max_value=datetime(2199, 12, 29), timezones=st.just(UTC)
    ),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_time_round_trip(moment: datetime, offset_minutes: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text, us = parse_time(local.isoformat())
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert us == expected
    assert format_time_us(us) == text
    assert parse_time(text) == (text, us)
    assert text.endswith("Z") and len(text) in (20, 27)


# -- refusals, in the documented order --------------------------------------------------

BAD: list[tuple[str, Any, Reason]] = [
    ("not an object", [PENALTY], Reason.NOT_AN_OBJECT),
    ("a string", "{}", Reason.NOT_AN_OBJECT),
    ("specversion 0.3", event(specversion="0.3"), Reason.SPECVERSION),
    ("specversion number", event(specversion=1.0), Reason.SPECVERSION),
    ("specversion missing", event(specversion=None), Reason.SPECVERSION),
    ("missing time", event(time=None), Reason.MISSING_ATTRIBUTE),
    ("missing id", event(id=None), Reason.MISSING_ATTRIBUTE),
    ("missing data", event(data=None), Reason.MISSING_ATTRIBUTE),
    ("id not a string", event(id=17), Reason.INVALID_ATTRIBUTE),
    ("id empty", event(id=""), Reason.INVALID_ATTRIBUTE),
    ("id blank", event(id="  "), Reason.INVALID_ATTRIBUTE),
    ("id too long", event(id="x" * 201), Reason.INVALID_ATTRIBUTE),
    ("id control char", event(id="a\nb"), Reason.INVALID_ATTRIBUTE),
    ("source control char", event(source="samr/\x00"), Reason.INVALID_ATTRIBUTE),
    ("source too long", event(source="s" * 201), Reason.INVALID_ATTRIBUTE),
    ("subject null", {**event(), "subject": None}, Reason.INVALID_ATTRIBUTE),
    ("time not a string", event(time=1705716000), Reason.INVALID_ATTRIBUTE),
    ("type empty", event(type=""), Reason.INVALID_ATTRIBUTE),
    ("content type", event(datacontenttype="text/plain"), Reason.CONTENT_TYPE),
    ("content type xml", event(datacontenttype="application/xml"), Reason.CONTENT_TYPE),
    ("content type number", event(datacontenttype=1), Reason.CONTENT_TYPE),
    ("unknown type", event(type="credit.penalty.forgiven"), Reason.UNKNOWN_TYPE),
    ("wrong check character", event(subject="91440300708461136A"), Reason.CODE_CHECK),
    ("forbidden letter", event(subject="91440300708461O36T"), Reason.CODE_CHARACTER),
    ("lowercase", event(subject="n2110000ma0000007n"), Reason.CODE_LOWERCASE),
    ("wrong length", event(subject="91440300708461136"), Reason.CODE_LENGTH),
    ("wrong org check", event(subject="91440300708461156T"), Reason.CODE_ORG_CHECK),
    ("unparseable time", event(time="yesterday"), Reason.INVALID_TIME),
    ("data too large", with_data(note="x" * 70_000), Reason.DATA_TOO_LARGE),
    ("data not an object", event(data=[1]), Reason.INVALID_ATTRIBUTE),
    ("data null", {**event(), "data": None}, Reason.INVALID_ATTRIBUTE),
    ("float money", with_data(amount=3000.0), Reason.FLOAT_NOT_ALLOWED),
    ("missing field", {**event(), "data": {"kinds": ["fine"]}}, Reason.MISSING_FIELD),
    ("bad field", with_data(severity="grave"), Reason.INVALID_FIELD),
]


@pytest.mark.parametrize(("case", "obj", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_events_are_refused_with_their_code(case: str, obj: Any, code: Reason) -> None:
    got = refused(obj)
    assert got.code == code
    assert got.message and "\n" not in got.message


def test_missing_attributes_are_all_named_and_the_ledger_rule_explained() -> None:
    got = refused(event(time=None, data=None, id=None))
    assert got.details["attributes"] == ["id", "time", "data"]
    assert "id, time, data" in got.message
    assert "CloudEvents makes time, data optional" in got.message


def test_data_limit_is_64_kib_of_compact_json() -> None:
    base = len(b'{"note":""}')
    assert parse_event({**event(), "data": with_data(note="")["data"]})
    fits = {"note": "x" * (65_536 - base)}
    assert refused({**event(), "data": fits}).code == Reason.MISSING_FIELD  # size passed
    over = {"note": "x" * (65_537 - base)}
    got = refused({**event(), "data": over})
    assert got.code == Reason.DATA_TOO_LARGE and got.details["size"] == 65_537


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        (event(specversion="0.3", id=None), Reason.SPECVERSION),
        (event(id=None, type="nope"), Reason.MISSING_ATTRIBUTE),
        (event(id=5, type="nope"), Reason.INVALID_ATTRIBUTE),
        (event(datacontenttype="text/xml", type="nope"), Reason.CONTENT_TYPE),
        (event(type="nope", subject="bad"), Reason.UNKNOWN_TYPE),
        (event(subject="bad", time="bad"), Reason.CODE_LENGTH),
        (event(time="bad", data={"x": 1.5}), Reason.INVALID_TIME),
        ({**event(), "data": {"x": "y" * 70_000, "z": 1.5}}, Reason.DATA_TOO_LARGE),
    ],
)
def test_order_of_checks(obj: dict[str, Any], code: Reason) -> None:
    assert refused(obj).code == code
