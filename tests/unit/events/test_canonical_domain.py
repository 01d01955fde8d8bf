"""Data accepted at the door is exactly the data the chain can hash canonically."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.reasons import InvalidEvent
from events.scan import check_json_values
from ledger import chain


def test_key_above_u_ffff_is_refused_with_its_path() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_json_values({"note": {"😀": "x"}}, "credit.violation.recorded")
    assert caught.value.rejection.code == "invalid-field"
    assert "data.note['😀']" in caught.value.rejection.message


json_values = st.recursive(
    st.none() | st.booleans() | st.text() | st.integers(-(2**60), 2**60),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_what_passes_the_door_is_in_the_canonical_domain(data: dict) -> None:
    try:
        check_json_values(data, "t")
    except InvalidEvent as refused:
        if refused.rejection.code == "control-character":
            return  # stricter than canonical JSON needs: tests/unit/events/test_text_characters.py
        with pytest.raises(ValueError):
            chain.canonical(data)
        return
    assert chain.canonical_trusted(data) == chain.canonical(data)
