"""A correction is judged as the corrected record would be (commands.workflows.corrections)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.workflows.common import effective_data
from commands.workflows.persons import tenures
from events.personal import unsealed_for_validation
from events.reasons import InvalidEvent, Reason, Rejection
from events.vocabulary import validate_data
from ledger.sealing import MemoryKeyStore, protect
from tests.unit.commands.stream import Stream, at


def corrected(s: Stream, target: str, changes: dict, day: str = "2025-06-01") -> tuple:
    """Submit a correction; (status, code, field) for assertions."""
    decision = s.add("credit.record.corrected", at(day), {"target": target, "changes": changes})
    code = getattr(decision, "code", None)
    field = getattr(decision, "details", {}).get("field")
    return ("rejected" if code else "accepted", code, field)


def test_the_issue_examples_are_refused_naming_the_field() -> None:
    s = Stream()
    commitment = s.ok(
        "credit.commitment.made",
        at("2025-01-02"),
        {"commitment_type": "voluntary", "matter": "m", "due": "2025-03-01"},
    )
    penalty = s.penalty("2025-02-10")
    order = s.ok(
        "credit.rectification.ordered",
        at("2025-02-12"),
        {"finding": penalty, "deadline": "2025-03-12"},
    )
    assert corrected(s, commitment, {"due": "garbage"}) == (
        "rejected",
        "invalid-field",
        "data.changes.due",
    )
    assert corrected(s, penalty, {"severity": "bogus"})[1:] == (
        "invalid-field",
        "data.changes.severity",
    )
    assert corrected(s, penalty, {"amount": "abc"})[1:] == ("invalid-field", "data.changes.amount")
    assert corrected(s, order, {"finding": "nope"})[1:] == (
        "unknown-reference",
        "data.changes.finding",
    )
    rejection = s.refused(
        "credit.record.corrected", at("2025-06-01"), {"target": penalty, "changes": {"amount": 5}}
    )
    assert "data.changes.amount" in rejection.message and penalty in rejection.message
    # the same fields with valid values pass, and null where the model allows it
    assert corrected(s, commitment, {"due": None})[0] == "accepted"
    assert corrected(s, penalty, {"severity": "serious", "amount": "80000.00"})[0] == "accepted"


def test_unknown_and_link_fields_cannot_be_corrected() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    assert corrected(s, penalty, {"colour": "red"})[1:] == ("invalid-field", "data.changes.colour")
    fix = s.ok(
        "credit.record.corrected",
        at("2025-03-01"),
        {"target": penalty, "changes": {"amount": "40000.00"}},
    )
    other = s.penalty("2025-02-11")
    assert corrected(s, fix, {"target": other})[1:] == ("invalid-field", "data.changes.target")
    assert corrected(s, fix, {"changes": {"amount": "1.00"}})[1:] == (
        "invalid-field",
        "data.changes.changes",
    )


def test_a_changed_reference_is_checked_as_if_the_record_were_submitted_again() -> None:
    s = Stream()
    commitment = s.ok(
        "credit.commitment.made",
        at("2025-02-01"),
        {"commitment_type": "voluntary", "matter": "m", "due": None},
    )
    early = s.penalty("2025-02-10")
    other = s.penalty("2025-02-11")
    order = s.ok(
        "credit.rectification.ordered",
        at("2025-02-12"),
        {"finding": early, "deadline": "2025-03-12"},
    )
    recorded_after = s.penalty("2025-02-11")  # valid before the order, recorded after it
    assert corrected(s, order, {"finding": commitment})[1] == "wrong-reference-type"
    assert corrected(s, order, {"finding": recorded_after})[1] == "unknown-reference"
    assert corrected(s, order, {"finding": order})[1] == "unknown-reference"
    assert corrected(s, order, {"finding": other})[0] == "accepted"


def test_a_reference_dated_after_the_target_is_refused() -> None:
    s = Stream()
    early = s.penalty("2025-02-10")
    late = s.penalty("2025-04-10")
    order = s.ok(
        "credit.rectification.ordered",
        at("2025-02-12"),
        {"finding": early, "deadline": "2025-03-12"},
    )
    # recorded before the order (found in the stream), but valid only after it
    assert corrected(s, order, {"finding": late})[1] == "reference-dated-later"


def test_a_resolution_carrying_changes_is_judged_the_same_way() -> None:
    s = Stream()
    penalty = s.penalty("2025-02-10")
    filed = s.ok(
        "credit.objection.filed",
        at("2025-02-14"),
        {"target": penalty, "grounds": "g"},
        source="credit-platform/440300",
    )
    resolution = {"objection": filed, "outcome": "upheld", "reasons": "r"}
    rejection = s.refused(
        "credit.objection.resolved", at("2025-02-20"), {**resolution, "changes": {"severity": "x"}}
    )
    assert (rejection.code, rejection.details["field"]) == (
        "invalid-field",
        "data.changes.severity",
    )
    s.ok(
        "credit.objection.resolved",
        at("2025-02-20"),
        {**resolution, "changes": {"severity": "minor"}},
    )


def test_a_corrected_identity_number_is_accepted_sealed_and_moves_the_tenure() -> None:
    keys = MemoryKeyStore()
    s = Stream()
    link = s.event(
        "credit.person.linked",
        at("2025-01-02"),
        {"role": "principal", "name": "张三", "id_number": "11010519491231002X"},
    )
    s.submit(protect(link, keys))
    fix = s.event(
        "credit.record.corrected",
        at("2025-02-01"),
        {"target": link.id, "changes": {"id_number": "440301199001010013"}},
    )
    sealed = protect(fix, keys)
    assert s.decide(sealed).__class__.__name__ == "Accepted"
    s.submit(sealed)
    (tenure,) = tenures(s.state)
    assert tenure.person == keys.find("440301199001010013") != keys.find("11010519491231002X")
    # a blank number is refused by the model, not sealed
    blank = s.event(
        "credit.record.corrected",
        at("2025-02-02"),
        {"target": link.id, "changes": {"id_number": " "}},
    )
    rejection = s.decide(protect(blank, keys))
    assert getattr(rejection, "code", None) == "invalid-field"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _targets() -> tuple[Stream, list[str]]:
    s = Stream()
    commitment = s.ok(
        "credit.commitment.made",
        at("2025-01-02"),
        {"commitment_type": "voluntary", "matter": "m", "due": "2025-03-01"},
    )
    penalty = s.penalty("2025-02-10")
    order = s.ok(
        "credit.rectification.ordered",
        at("2025-02-12"),
        {"finding": penalty, "deadline": "2025-03-12"},
    )
    linked = s.event(
        "credit.person.linked",
        at("2025-01-03"),
        {"role": "principal", "name": "张三", "id_number": "11010519491231002X"},
    )
    s.submit(protect(linked, MemoryKeyStore()))
    link = linked.id
    fix = s.ok(
        "credit.record.corrected",
        at("2025-03-01"),
        {"target": penalty, "changes": {"sector": "drugs"}},
    )
    return s, [commitment, penalty, order, link, fix, "e-none"]


TARGET_STREAM, TARGETS = _targets()
FIELD_NAMES = sorted(
    {
        "due",
        "severity",
        "amount",
        "finding",
        "kinds",
        "id_number",
        "target",
        "changes",
        "deadline",
        "x",
    }
)


@settings(max_examples=300, deadline=None)
@given(
    target=st.sampled_from(TARGETS),
    changes=st.dictionaries(
        st.sampled_from(FIELD_NAMES) | st.text(max_size=5), JSON, min_size=1, max_size=3
    ),
)
def test_any_correction_is_decided_never_raises(target: str, changes: dict) -> None:
    """Whatever ``changes`` hold, the decision is an acceptance or a rejection with a
    stable reason code — never an exception; an accepted one leaves a valid record."""
    try:
        event = TARGET_STREAM.event(
            "credit.record.corrected", at("2025-06-01"), {"target": target, "changes": changes}
        )
    except InvalidEvent:
        return  # refused at the door (e.g. a float or a control character)
    decision = TARGET_STREAM.decide(event)
    if isinstance(decision, Rejection):
        assert decision.code in set(Reason)
        return
    facts = TARGET_STREAM.state.events[target]
    merged = unsealed_for_validation(
        facts.type, {**effective_data(TARGET_STREAM.state, target), **changes}
    )
    validate_data(facts.type, merged)
