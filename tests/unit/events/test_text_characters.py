"""No control character (but tab, line feed, carriage return) and no Unicode noncharacter
in any string or key of ``data``: refused at the door (``events.scan``) with
``control-character``, the same for every path that parses a submission."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.codes import complete_subject_code
from events.envelope import Envelope, Refused, parse_submission
from events.reasons import InvalidEvent
from events.scan import FORBIDDEN_IN_TEXT, check_json_values

REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85",
           "\x9f", "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"]  # fmt: skip
ALLOWED = ["\t", "\n", "\r", " ", "\xa0", "质量", "\u2028", "\ufeff", "\U0001f600", "\ufffd"]


def _event(data: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": "ctl-1",
            "source": "samr/440300",
            "type": "credit.registration.submitted",
            "subject": complete_subject_code("91440300MA5FPXM0"),
            "time": "2025-03-01T10:00:00+08:00",
            "data": data,
        }
    )


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: "+".join(f"U{ord(x):04X}" for x in c))
def test_a_submission_with_the_character_in_data_is_refused(char: str) -> None:
    (item,) = parse_submission(_event({"category": "certificate", "description": f"ISO{char}9001"}))
    assert isinstance(item, Refused)
    assert item.rejection.code == "control-character"
    assert item.rejection.details["path"] == "data.description"
    assert item.rejection.details["character"] == f"U+{ord(char):04X}"
    assert "position 4" in item.rejection.message


@pytest.mark.parametrize("char", ALLOWED, ids=lambda c: "+".join(f"U{ord(x):04X}" for x in c))
def test_line_breaks_tabs_and_ordinary_text_are_accepted(char: str) -> None:
    (item,) = parse_submission(_event({"category": "certificate", "description": f"ISO{char}9001"}))
    assert isinstance(item, Envelope), item


def test_nested_strings_and_keys_are_checked_with_their_path() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_json_values({"changes": {"note": ["ok", "b\x00d"]}}, "credit.record.corrected")
    assert caught.value.rejection.details["path"] == "data.changes.note[1]"
    with pytest.raises(InvalidEvent) as caught:
        check_json_values({"changes": {"n\x00te": "x"}}, "credit.record.corrected")
    assert caught.value.rejection.code == "control-character"
    assert "the key holds the character U+0000" in caught.value.rejection.message


def test_a_float_is_still_reported_first() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_json_values({"a": "\x00", "b": 1.5}, "t")
    assert caught.value.rejection.code == "float-not-allowed"


@given(st.text())
def test_a_string_passes_exactly_when_it_has_no_forbidden_character(text: str) -> None:
    forbidden = any(
        (ord(c) < 0x20 and c not in "\t\n\r")
        or 0x7F <= ord(c) <= 0x9F
        or 0xFDD0 <= ord(c) <= 0xFDEF
        or (ord(c) & 0xFFFE) == 0xFFFE
        for c in text
    )
    assert (FORBIDDEN_IN_TEXT.search(text) is not None) == forbidden
    try:
        check_json_values({"text": text, text: "key"}, "t")
    except InvalidEvent as refused:
        assert forbidden or refused.rejection.code == "invalid-field"  # astral key
    else:
        assert not forbidden
