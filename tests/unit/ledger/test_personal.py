"""Personal data: sealed before the append, revealed by role, erased for good."""

from __future__ import annotations

from pathlib import Path

from events.envelope import Refused, parse_event
from ledger.sealing import (
    MemoryKeyStore,
    PersonKey,
    PersonSecrets,
    _encrypt,
    erase_person,
    fingerprint,
    legacy_key_id,
    mask,
    protect,
    protect_items,
    reveal,
)
from tests.unit.events.samples import SAMPLES

LINK = SAMPLES["credit.person.linked"]
NUMBER = LINK["data"]["id_number"]
OTHER = "440301199001010013"


def correction(changes: dict) -> dict:
    return {
        **SAMPLES["credit.penalty.decided"],
        "id": "c-1",
        "type": "credit.record.corrected",
        "data": {"target": "x-1", "changes": changes},
    }


def test_the_number_is_replaced_by_ciphertext_and_a_random_key_id() -> None:
    keys = MemoryKeyStore(b"s" * 32)
    event = parse_event(LINK)
    protected = protect(event, keys)
    value = protected.data["id_number"]
    assert set(value) == {"enc", "key"} and value["key"] == keys.find(NUMBER)
    assert value["key"].startswith("pk-") and len(value["key"]) == 35
    # derived from nothing: not the HMAC older ledgers used
    assert value["key"] != legacy_key_id(b"s" * 32, NUMBER)
    assert NUMBER not in str(protected.data)
    assert protected.data["name"] == LINK["data"]["name"]
    assert event.data["id_number"] == NUMBER  # the input is not modified
    assert protect(protected, keys) == protected  # idempotent
    assert protect(event, keys) == protected  # deterministic: a resubmission is a repeat


def test_the_index_is_normalised_and_keyed() -> None:
    a, b = MemoryKeyStore(b"a" * 32), MemoryKeyStore(b"a" * 32)
    protect(parse_event(LINK), a)
    protect(parse_event(LINK), b)
    assert a.find(NUMBER) == a.find(f" {NUMBER.lower()} ") is not None
    assert a.find(NUMBER) != b.find(NUMBER)  # random, even under the same secret
    (row,) = a.index.values()
    assert NUMBER not in str(row) and row.person_key_id == a.find(NUMBER)
    assert a.find(OTHER) is None


def test_other_events_are_untouched() -> None:
    keys = MemoryKeyStore()
    event = parse_event(SAMPLES["credit.penalty.decided"])
    assert protect(event, keys) is event
    assert keys.rows == {}


def test_the_public_mask_keeps_the_province_only() -> None:
    assert mask(NUMBER) == "11****************"
    assert mask("44030119800101123X") == "44****************"  # no check character
    assert mask("123456789") == "*********"


def test_reveal_by_role_and_after_erasure() -> None:
    keys = MemoryKeyStore()
    stored = protect(parse_event(LINK), keys).data
    assert reveal(stored, keys, "auditor")["id_number"] == NUMBER
    assert reveal(stored, keys, "public")["id_number"] == "11****************"
    key_id, destroyed = erase_person(keys, NUMBER)
    assert destroyed and keys.rows[key_id].key is None and keys.rows[key_id].erased_us
    assert keys.index == {} and keys.find(NUMBER) is None
    assert reveal(stored, keys, "auditor")["id_number"] == "erased"
    assert erase_person(keys, key_id=key_id) == (key_id, False)


def test_a_later_link_of_an_erased_number_starts_a_fresh_key() -> None:
    keys = MemoryKeyStore()
    first = protect(parse_event(LINK), keys).data["id_number"]
    erase_person(keys, NUMBER)
    again = protect(parse_event(LINK), keys).data["id_number"]
    assert again["key"] != first["key"] and keys.find(NUMBER) == again["key"]
    assert reveal({"id_number": again}, keys, "auditor")["id_number"] == NUMBER
    assert reveal({"id_number": first}, keys, "auditor")["id_number"] == "erased"


def test_each_person_has_their_own_key_and_survives_a_rotation() -> None:
    keys = MemoryKeyStore()
    second = dict(LINK, data={**LINK["data"], "id_number": OTHER})
    a = protect(parse_event(LINK), keys).data["id_number"]
    b = protect(parse_event(second), keys).data["id_number"]
    assert a["key"] != b["key"] and len(keys.rows) == 2
    before = keys.secrets.current
    erase_person(keys, NUMBER)
    assert keys.secrets.all() != (before,) and len(keys.secrets.all()) == 1
    assert keys.keyed_with == fingerprint(keys.secrets.current)
    assert keys.find(OTHER) == b["key"]  # re-keyed under the new secret
    assert reveal({"id_number": b}, keys, "handler")["id_number"] == OTHER
    assert protect(parse_event(second), keys).data["id_number"] == b  # still a repeat


def test_a_legacy_person_is_indexed_then_unlinked_by_the_rotation() -> None:
    """A person of an older ledger: key id = HMAC of the number under the secret."""
    secret = b"L" * 32
    keys = MemoryKeyStore(secret)
    legacy = legacy_key_id(secret, NUMBER)
    key = bytes(range(32))
    keys.rows[legacy] = PersonKey(legacy, key, 1, None)
    sealed = {"enc": _encrypt(key, legacy, NUMBER), "key": legacy}
    assert keys.find(NUMBER) == legacy and keys.unindexed() == {legacy}
    # a resubmission of the old link is still a repeat (same key id, same ciphertext)
    assert protect(parse_event(LINK), keys).data["id_number"] == sealed
    assert keys.unindexed() == set() and keys.find(NUMBER) == legacy

    keys.rotate([(legacy, NUMBER)])
    assert secret not in keys.secrets.all()
    assert all(legacy_key_id(s, NUMBER) != legacy for s in keys.secrets.all())
    assert keys.find(NUMBER) == legacy  # found through the index, not the derivation
    erase_person(keys, NUMBER)
    assert keys.find(NUMBER, include_erased=True) is None


def test_the_secret_file_rotates_and_the_old_secret_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "person.key"
    held = PersonSecrets(path)
    old = held.current
    assert path.stat().st_mode & 0o777 == 0o600
    other_process = PersonSecrets(path)
    assert other_process.current == old
    new = held.begin_rotation()
    assert other_process.all() == (new, old)  # every process follows the file
    held.end_rotation(new)
    assert other_process.all() == (new,)
    assert old.hex() not in path.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".person")] == []


def test_a_corrected_number_is_sealed_exactly_as_on_first_submission() -> None:
    keys = MemoryKeyStore()
    linked = protect(parse_event(LINK), keys).data["id_number"]
    corrected = protect(parse_event(correction({"id_number": NUMBER, "name": "李四"})), keys)
    assert corrected.data["changes"] == {"id_number": linked, "name": "李四"}
    assert NUMBER not in str(corrected.data)
    fresh = protect(parse_event(correction({"id_number": OTHER})), keys).data["changes"]
    assert fresh["id_number"]["key"] == keys.find(OTHER)
    shown = reveal(corrected.data, keys, "public")["changes"]
    assert shown == {"id_number": "11****************", "name": "李四"}
    # …and erasable: erasing the corrected number's person makes it unreadable
    erase_person(keys, OTHER)
    assert reveal({"changes": fresh}, keys, "auditor")["changes"]["id_number"] == "erased"
    # what is not a non-blank string is left for the decision to refuse
    for bad in (123, "  ", None):
        event = parse_event(correction({"id_number": bad}))
        assert protect(event, keys) is event
    # a submitter cannot hand in a sealed value (a person key of its choosing)
    forged = parse_event(correction({"id_number": linked}))
    (refused,) = protect_items([forged], keys)
    assert isinstance(refused, Refused) and refused.rejection.code == "invalid-field"


def test_a_resolution_carrying_changes_is_sealed_too() -> None:
    keys = MemoryKeyStore()
    item = correction({"id_number": NUMBER})
    item["type"] = "credit.objection.resolved"
    item["data"] = {
        "objection": "o-1",
        "outcome": "upheld",
        "reasons": "r",
        "changes": {"id_number": NUMBER},
    }
    sealed = protect(parse_event(item), keys).data["changes"]["id_number"]
    assert sealed["key"] == keys.find(NUMBER)
