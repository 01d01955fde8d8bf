"""Personal data: protected before the append, revealed by role, erased for good."""

from __future__ import annotations

import pytest

from events.envelope import Refused, parse_event
from events.reasons import InvalidEvent
from ledger.personal import (
    MemoryKeyStore,
    erase_person,
    mask,
    protect,
    protect_items,
    reveal,
)
from tests.unit.events.samples import SAMPLES

LINK = SAMPLES["credit.person.linked"]
NUMBER = LINK["data"]["id_number"]


def test_the_number_is_replaced_by_ciphertext_and_a_key_id() -> None:
    keys = MemoryKeyStore(b"s" * 32)
    event = parse_event(LINK)
    protected = protect(event, keys)
    value = protected.data["id_number"]
    assert set(value) == {"enc", "key"} and value["key"] == keys.key_id(NUMBER)
    assert NUMBER not in str(protected.data)
    assert protected.data["name"] == LINK["data"]["name"]
    assert event.data["id_number"] == NUMBER  # the input is not modified
    assert protect(protected, keys) == protected  # idempotent
    assert protect(event, keys) == protected  # deterministic: a resubmission is a repeat


def test_the_key_id_is_keyed_and_normalised() -> None:
    a, b = MemoryKeyStore(b"a" * 32), MemoryKeyStore(b"b" * 32)
    assert a.key_id(NUMBER) == a.key_id(f" {NUMBER.lower()} ")
    assert a.key_id(NUMBER) != b.key_id(NUMBER)
    assert a.key_id(NUMBER).startswith("pk-")


def test_other_events_are_untouched() -> None:
    keys = MemoryKeyStore()
    event = parse_event(SAMPLES["credit.penalty.decided"])
    assert protect(event, keys) is event
    assert keys.rows == {}


def test_reveal_by_role_and_after_erasure() -> None:
    keys = MemoryKeyStore()
    stored = protect(parse_event(LINK), keys).data
    assert reveal(stored, keys, "auditor")["id_number"] == NUMBER
    assert reveal(stored, keys, "public")["id_number"] == mask(NUMBER) == "110105***********X"
    key_id, destroyed = erase_person(keys, NUMBER)
    assert destroyed and keys.rows[key_id].key is None and keys.rows[key_id].erased_us
    assert reveal(stored, keys, "auditor")["id_number"] == "erased"
    assert erase_person(keys, key_id=key_id) == (key_id, False)


def test_a_new_link_of_an_erased_person_is_refused() -> None:
    keys = MemoryKeyStore()
    protect(parse_event(LINK), keys)
    erase_person(keys, NUMBER)
    with pytest.raises(InvalidEvent) as caught:
        protect(parse_event(LINK), keys)
    assert caught.value.rejection.code == "person-erased"
    other = parse_event(SAMPLES["credit.penalty.decided"])
    out = protect_items([parse_event(LINK), other], keys)
    assert isinstance(out[0], Refused) and out[0].rejection.code == "person-erased"
    assert out[0].index == 0 and out[1] is other


def test_each_person_has_their_own_key() -> None:
    keys = MemoryKeyStore()
    second = dict(LINK, data={**LINK["data"], "id_number": "440301199001010013"})
    a = protect(parse_event(LINK), keys).data["id_number"]
    b = protect(parse_event(second), keys).data["id_number"]
    assert a["key"] != b["key"] and len(keys.rows) == 2
    erase_person(keys, NUMBER)
    assert reveal({"id_number": b}, keys, "handler")["id_number"] == "440301199001010013"
