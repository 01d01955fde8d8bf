"""parse_submission: one object, an array, JSON lines; results in input order."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from events.envelope import Envelope, Refused, parse_submission
from events.reasons import Reason
from tests.unit.events.samples import SAMPLES

EVENTS = list(SAMPLES.values())


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def kinds(results: list[Envelope | Refused]) -> list[str]:
    return ["ok" if isinstance(r, Envelope) else str(r.rejection.code) for r in results]


def test_one_object() -> None:
    [only] = parse_submission(dumps(EVENTS[0]))
    assert isinstance(only, Envelope) and only.id == EVENTS[0]["id"]


def test_an_array_keeps_order() -> None:
    results = parse_submission(dumps(EVENTS))
    assert [r.id for r in results] == [e["id"] for e in EVENTS]
    assert all(isinstance(r, Envelope) for r in results)


def test_a_pretty_printed_array() -> None:
    raw = orjson.dumps(EVENTS[:3], option=orjson.OPT_INDENT_2)
    assert kinds(parse_submission(raw)) == ["ok"] * 3


def test_json_lines() -> None:
    raw = b"\n".join(dumps(e) for e in EVENTS) + b"\n"
    results = parse_submission(raw)
    assert [r.id for r in results] == [e["id"] for e in EVENTS]


def test_str_input_and_crlf_and_blank_lines() -> None:
    text = "\r\n\r\n".join(dumps(e).decode() for e in EVENTS[:3]) + "\r\n  \r\n"
    assert kinds(parse_submission(text)) == ["ok"] * 3


def test_mixed_good_and_bad_lines() -> None:
    float_money = dict(SAMPLES["credit.penalty.decided"], id="float-1")
    float_money = {**float_money, "data": {**float_money["data"], "amount": 3000.00}}
    lines = [
        dumps(EVENTS[0]),
        b"",
        b'{"specversion": "1.0", "id": "broken"',
        dumps(float_money),
        b'"just a string"',
        b"\xff\xfe not utf-8",
        dumps(EVENTS[1]),
    ]
    results = parse_submission(b"\n".join(lines))
    assert kinds(results) == [
        "ok",
        "not-json",
        "float-not-allowed",
        "not-an-object",
        "not-json",
        "ok",
    ]
    assert [r.index for r in results if isinstance(r, Refused)] == [1, 2, 3, 4]
    broken = results[1]
    assert isinstance(broken, Refused)
    assert "line 3" in broken.rejection.message and broken.rejection.details["line"] == 3
    bad_utf8 = results[4]
    assert isinstance(bad_utf8, Refused) and "line 6" in bad_utf8.rejection.message
    money = results[2]
    assert isinstance(money, Refused) and (money.id, money.source) == ("float-1", "samr/440300")
    assert "data.amount" in money.rejection.message


def test_float_money_written_as_3000_00_is_refused() -> None:
    raw = dumps(SAMPLES["credit.penalty.decided"]).replace(b'"150000.00"', b"150000.00")
    [result] = parse_submission(raw)
    assert isinstance(result, Refused) and result.rejection.code == Reason.FLOAT_NOT_ALLOWED


def test_huge_integers_are_refused() -> None:
    raw = dumps(SAMPLES["credit.penalty.decided"]).replace(
        b'"severity"', b'"n": 123456789012345678901234567890, "severity"'
    )
    [result] = parse_submission(raw)
    assert isinstance(result, Refused)
    assert result.rejection.code in (Reason.FLOAT_NOT_ALLOWED, Reason.INVALID_FIELD)


def test_array_elements_that_are_not_objects() -> None:
    results = parse_submission(dumps([EVENTS[0], 5, None, [EVENTS[1]], EVENTS[1]]))
    assert kinds(results) == ["ok", "not-an-object", "not-an-object", "not-an-object", "ok"]
    assert [r.index for r in results if isinstance(r, Refused)] == [1, 2, 3]


def test_refused_items_carry_id_and_source_when_they_can() -> None:
    bad = dict(EVENTS[0], subject="91440300708461136A")
    [result] = parse_submission(dumps(bad))
    assert isinstance(result, Refused)
    assert (result.index, result.id, result.source) == (0, bad["id"], bad["source"])
    [result] = parse_submission(dumps(dict(EVENTS[0], id=5, subject="x")))
    assert isinstance(result, Refused) and result.id is None and result.source == "samr/440300"


@pytest.mark.parametrize("raw", [b"", "", b"  \n\n ", "\n", b"[]", b"\xef\xbb\xbf"])
def test_nothing_submitted(raw: bytes | str) -> None:
    assert parse_submission(raw) == []


def test_a_scalar_document_is_one_refusal() -> None:
    assert kinds(parse_submission(b"42")) == ["not-an-object"]


def test_byte_order_mark_is_ignored() -> None:
    assert kinds(parse_submission(b"\xef\xbb\xbf" + dumps(EVENTS[0]))) == ["ok"]
    assert kinds(parse_submission("\ufeff" + dumps(EVENTS[0]).decode())) == ["ok"]


def test_not_json_at_all() -> None:
    [result] = parse_submission(b"this is not json")
    assert isinstance(result, Refused) and result.rejection.code == Reason.NOT_JSON
    assert "line 1" in result.rejection.message


def test_invalid_utf8_document() -> None:
    [result] = parse_submission(b'{"id": "\xff"}')
    assert isinstance(result, Refused) and result.rejection.code == Reason.NOT_JSON


def test_a_broken_array_is_one_refusal() -> None:
    raw = orjson.dumps(EVENTS[:3], option=orjson.OPT_INDENT_2)[:-5]
    [result] = parse_submission(raw)
    assert isinstance(result, Refused) and result.rejection.code == Reason.NOT_JSON
    assert "array" in result.rejection.message


def test_bytearray_is_accepted() -> None:
    raw = dumps(EVENTS[0])
    assert kinds(parse_submission(bytearray(raw))) == ["ok"]  # type: ignore[arg-type]
