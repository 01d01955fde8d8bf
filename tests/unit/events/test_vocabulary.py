"""The vocabulary: types, references, and validation of `data`."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest

from events import vocabulary
from events.reasons import InvalidEvent, Reason
from events.vocabulary import (
    BASIS_REQUIRED_TYPES,
    EVENT_TYPES,
    FINDING_TYPES,
    EventType,
    upcast,
    validate_data,
)
from tests.unit.events.samples import SAMPLES

VOCABULARY = {
    "commitment": ["made", "fulfilled", "breached", "withdrawn"],
    "violation": ["recorded"],
    "penalty": ["decided", "withdrawn"],
    "rectification": ["ordered", "completed"],
    "interview": ["held"],
    "list": ["proposed", "designated", "removed"],
    "measure": ["applied", "lifted"],
    "ban": ["imposed", "lifted"],
    "objection": ["filed", "resolved"],
    "repair": ["requested", "approved", "rejected", "revoked"],
    "record": ["corrected", "revoked"],
    "person": ["linked"],
    "registration": ["submitted"],
    "evaluation": ["published"],
    "inspection": ["selected"],  # an addition to DOMAIN.md's vocabulary (双随机 spot checks)
    "license": ["granted", "changed", "revoked"],
    "incentive": ["granted", "ended"],
}
ALL = {f"credit.{kind}.{action}" for kind, actions in VOCABULARY.items() for action in actions}


def rejection(type_name: str, data: object) -> Any:
    with pytest.raises(InvalidEvent) as caught:
        validate_data(type_name, data)
    return caught.value.rejection


def sample_data(type_name: str) -> dict[str, Any]:
    return copy.deepcopy(SAMPLES[type_name]["data"])


def required_fields(type_name: str) -> list[str]:
    fields = EVENT_TYPES[type_name].model.model_fields
    return [name for name, info in fields.items() if info.is_required()]


# -- the table --------------------------------------------------------------------------


def test_every_type_of_the_domain_is_there() -> None:
    assert set(EVENT_TYPES) == ALL


@pytest.mark.parametrize("name", sorted(ALL))
def test_event_type_entries(name: str) -> None:
    etype = EVENT_TYPES[name]
    assert isinstance(etype, EventType)
    assert etype.name == name == f"credit.{etype.kind}.{etype.action}"
    assert etype.version == 1 and dict(etype.upcasters) == {}
    assert etype.is_finding == (name in FINDING_TYPES)


def test_finding_types() -> None:
    assert {
        "credit.violation.recorded",
        "credit.penalty.decided",
        "credit.commitment.breached",
    } == FINDING_TYPES


def test_references_table() -> None:
    grounds = FINDING_TYPES | {"credit.list.designated"}
    objectable = {t for t in ALL if t.split(".")[1] not in ("objection", "repair", "record")}
    expected = {
        "credit.commitment.fulfilled": {"commitment": {"credit.commitment.made"}},
        "credit.commitment.withdrawn": {"commitment": {"credit.commitment.made"}},
        "credit.commitment.breached": {"commitment": {"credit.commitment.made"}},
        "credit.penalty.withdrawn": {"penalty": {"credit.penalty.decided"}},
        "credit.rectification.ordered": {"finding": FINDING_TYPES},
        "credit.rectification.completed": {"rectification": {"credit.rectification.ordered"}},
        "credit.interview.held": {"finding": FINDING_TYPES},
        "credit.list.proposed": {"finding": FINDING_TYPES},
        "credit.list.designated": {"proposal": {"credit.list.proposed"}},
        "credit.list.removed": {"designation": {"credit.list.designated"}},
        "credit.measure.applied": {"finding": grounds},
        "credit.measure.lifted": {"application": {"credit.measure.applied"}},
        "credit.ban.imposed": {"finding": grounds},
        "credit.ban.lifted": {"ban": {"credit.ban.imposed"}},
        "credit.objection.filed": {"target": objectable},
        "credit.objection.resolved": {"objection": {"credit.objection.filed"}},
        "credit.repair.requested": {"target": grounds},
        "credit.repair.approved": {"request": {"credit.repair.requested"}},
        "credit.repair.rejected": {"request": {"credit.repair.requested"}},
        "credit.repair.revoked": {"approval": {"credit.repair.approved"}},
        "credit.record.corrected": {"target": ALL - {"credit.record.revoked"}},
        "credit.record.revoked": {"target": ALL - {"credit.record.revoked"}},
        "credit.license.changed": {"license": {"credit.license.granted"}},
        "credit.license.revoked": {"license": {"credit.license.granted"}},
        "credit.incentive.ended": {"grant": {"credit.incentive.granted"}},
    }
    actual = {n: dict(t.references) for n, t in EVENT_TYPES.items() if t.references}
    assert actual == expected
    for etype in EVENT_TYPES.values():
        for allowed in etype.references.values():
            assert isinstance(allowed, frozenset)


def test_the_table_is_read_only() -> None:
    assert isinstance(EVENT_TYPES, MappingProxyType)
    with pytest.raises(TypeError):
        EVENT_TYPES["credit.x.y"] = EVENT_TYPES["credit.ban.lifted"]  # type: ignore[index]


def test_basis_and_document_are_required_on_findings_and_sanctions() -> None:
    assert {
        "credit.violation.recorded",
        "credit.penalty.decided",
        "credit.list.proposed",
        "credit.list.designated",
        "credit.measure.applied",
        "credit.ban.imposed",
        "credit.license.granted",
    } == BASIS_REQUIRED_TYPES
    for name in ALL:
        required = set(required_fields(name))
        fields = EVENT_TYPES[name].model.model_fields
        assert {"basis", "document"} <= set(fields)
        assert ({"basis", "document"} <= required) == (name in BASIS_REQUIRED_TYPES)


# -- valid data -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL))
def test_samples_are_valid_and_untouched(name: str) -> None:
    data = sample_data(name)
    before = copy.deepcopy(data)
    assert validate_data(name, data) == 1
    assert data == before


@pytest.mark.parametrize("name", sorted(ALL))
def test_extra_fields_are_allowed(name: str) -> None:
    data = sample_data(name) | {"note": "补充说明", "extra": {"nested": [1, "a", None, True]}}
    assert validate_data(name, data) == 1


@pytest.mark.parametrize("name", sorted(ALL - BASIS_REQUIRED_TYPES))
def test_optional_basis_is_typed(name: str) -> None:
    assert validate_data(
        name, sample_data(name) | {"basis": "条例第5条", "document": "x〔2024〕1号"}
    )
    for bad in (None, "", "  ", 5):
        assert rejection(name, sample_data(name) | {"basis": bad}).code == Reason.INVALID_FIELD


# -- missing fields ---------------------------------------------------------------------

MISSING_CASES = [(name, field) for name in sorted(ALL) for field in required_fields(name)]


@pytest.mark.parametrize(("name", "field"), MISSING_CASES)
def test_each_required_field_is_required(name: str, field: str) -> None:
    data = sample_data(name)
    del data[field]
    got = rejection(name, data)
    assert got.code == Reason.MISSING_FIELD
    assert got.details["fields"] == [field]
    assert repr(field) in got.message and name in got.message


def test_missing_fields_are_all_named() -> None:
    got = rejection("credit.penalty.decided", {"kinds": ["fine"]})
    assert got.code == Reason.MISSING_FIELD
    assert set(got.details["fields"]) == {
        "amount",
        "procedure",
        "severity",
        "sector",
        "basis",
        "document",
    }


def test_missing_wins_over_invalid() -> None:
    data = sample_data("credit.penalty.decided")
    del data["sector"]
    data["severity"] = "awful"
    assert rejection("credit.penalty.decided", data).code == Reason.MISSING_FIELD


# -- invalid fields ---------------------------------------------------------------------

INVALID: list[tuple[str, str, Any, str]] = [
    # type, field, value, words the message must contain
    ("credit.penalty.decided", "amount", "3,000", '"3000.00"'),
    ("credit.penalty.decided", "amount", "-5.00", '"3000.00"'),
    ("credit.penalty.decided", "amount", "03000", '"3000.00"'),
    ("credit.penalty.decided", "amount", "3000.001", '"3000.00"'),
    ("credit.penalty.decided", "amount", "1e3", '"3000.00"'),
    ("credit.penalty.decided", "amount", "", '"3000.00"'),
    ("credit.penalty.decided", "amount", 3000, '"3000.00"'),
    ("credit.penalty.decided", "amount", "1000000000000000", '"3000.00"'),
    ("credit.penalty.decided", "kinds", [], "non-empty"),
    ("credit.penalty.decided", "kinds", "fine", "array"),
    ("credit.penalty.decided", "kinds", ["fine", "fien"], "'fine'"),
    ("credit.penalty.decided", "kinds", ["fine", "fine"], "repeated"),
    ("credit.penalty.decided", "procedure", "summary", "'simplified'"),
    ("credit.penalty.decided", "severity", "Serious", "'serious'"),
    ("credit.penalty.decided", "sector", "", "non-empty"),
    ("credit.penalty.decided", "sector", " \t", "non-blank"),
    ("credit.penalty.decided", "sector", 7, "string"),
    ("credit.penalty.decided", "sector", True, "string"),
    ("credit.penalty.decided", "document", None, "string"),
    ("credit.commitment.made", "due", "2025-02-30", "real calendar date"),
    ("credit.commitment.made", "due", "2025-2-3", "YYYY-MM-DD"),
    ("credit.commitment.made", "due", "20250203", "YYYY-MM-DD"),
    ("credit.commitment.made", "due", "2025-02-03T00:00:00Z", "YYYY-MM-DD"),
    ("credit.commitment.made", "due", 20250203, "YYYY-MM-DD"),
    ("credit.commitment.made", "commitment_type", "promise", "'voluntary'"),
    ("credit.commitment.breached", "kind", "true", "'false'"),
    ("credit.evaluation.published", "valid_until", None, "YYYY-MM-DD"),
    ("credit.rectification.ordered", "deadline", "2024-13-01", "real calendar date"),
    ("credit.interview.held", "kind", "friendly", "'reminder'"),
    ("credit.list.proposed", "list", "black", "'serious-dishonesty'"),
    ("credit.list.removed", "reason", "forgiven", "'expired'"),
    ("credit.objection.resolved", "outcome", "partly", "'upheld'"),
    ("credit.repair.requested", "methods", [], "non-empty"),
    ("credit.repair.requested", "methods", ["prayer"], "'charity'"),
    ("credit.record.corrected", "changes", {}, "non-empty object"),
    ("credit.record.corrected", "changes", ["severity"], "object"),
    ("credit.person.linked", "role", "boss", "'principal'"),
    ("credit.penalty.withdrawn", "penalty", "", "non-empty"),
    ("credit.penalty.withdrawn", "penalty", 17, "string"),
    ("credit.penalty.withdrawn", "penalty", "x" * 201, "at most 200"),
    ("credit.ban.lifted", "ban", ["samr-440300-0015"], "string"),
]


@pytest.mark.parametrize(("name", "field", "value", "words"), INVALID)
def test_invalid_fields(name: str, field: str, value: Any, words: str) -> None:
    got = rejection(name, sample_data(name) | {field: value})
    assert got.code == Reason.INVALID_FIELD
    assert got.details["fields"] == [field]
    assert f"data.{field}" in got.message and words in got.message
    assert "\n" not in got.message
    assert "pydantic" not in got.message.lower() and "http" not in got.message


@pytest.mark.parametrize(
    "amount", ["0", "0.5", "0.05", "3000", "3000.0", "3000.00", "999999999999999.99", None]
)
def test_money(amount: str | None) -> None:
    assert validate_data(
        "credit.penalty.decided", sample_data("credit.penalty.decided") | {"amount": amount}
    )


def test_nullable_fields_say_so() -> None:
    got = rejection("credit.commitment.made", sample_data("credit.commitment.made") | {"due": 5})
    assert "or null" in got.message
    got = rejection(
        "credit.evaluation.published",
        sample_data("credit.evaluation.published") | {"valid_until": 5},
    )
    assert "or null" not in got.message


def test_nested_errors_give_the_path() -> None:
    data = sample_data("credit.penalty.decided") | {"kinds": ["fine", 3]}
    got = rejection("credit.penalty.decided", data)
    assert "data.kinds[1]" in got.message and got.details["path"] == "data.kinds[1]"


# -- floats and integers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"amount": 3000.0}, "data.amount"),
        ({"amount": 3000.5}, "data.amount"),
        ({"note": {"a": [1, 2, 0.1]}}, "data.note.a[2]"),
        ({"weird key": 1e3}, "data['weird key']"),
    ],
)
def test_floats_are_refused_anywhere(extra: dict[str, Any], path: str) -> None:
    got = rejection("credit.penalty.decided", sample_data("credit.penalty.decided") | extra)
    assert got.code == Reason.FLOAT_NOT_ALLOWED
    assert path in got.message and '"3000.00"' in got.message
    assert got.details["path"] == path


def test_float_wins_over_everything_else() -> None:
    data = {"changes": {"a": 2**60, "b": 1.5}}  # target missing, a big int, a float
    assert rejection("credit.record.corrected", data).code == Reason.FLOAT_NOT_ALLOWED


@pytest.mark.parametrize("value", [2**53, -(2**53), 2**70])
def test_integers_beyond_i_json_are_refused(value: int) -> None:
    got = rejection(
        "credit.record.corrected", sample_data("credit.record.corrected") | {"n": value}
    )
    assert got.code == Reason.INVALID_FIELD and "data.n" in got.message


@pytest.mark.parametrize("value", [2**53 - 1, -(2**53 - 1), 0, True, None])
def test_safe_integers_are_fine(value: Any) -> None:
    assert validate_data(
        "credit.record.corrected", sample_data("credit.record.corrected") | {"n": value}
    )


@pytest.mark.parametrize("value", [(1, 2), {1, 2}, b"x", object()])
def test_non_json_python_values_are_refused(value: Any) -> None:
    got = rejection(
        "credit.record.corrected", sample_data("credit.record.corrected") | {"n": value}
    )
    assert got.code == Reason.INVALID_FIELD


def test_non_string_keys_are_refused() -> None:
    data = sample_data("credit.record.corrected") | {"changes": {1: "x"}}
    assert rejection("credit.record.corrected", data).code == Reason.INVALID_FIELD


# -- type and shape ---------------------------------------------------------------------


def test_unknown_type_suggests_close_matches() -> None:
    got = rejection("credit.penalty.decide", {})
    assert got.code == Reason.UNKNOWN_TYPE
    assert "credit.penalty.decided" in got.message
    assert got.details["suggestions"][0] == "credit.penalty.decided"


@pytest.mark.parametrize(
    "name", ["", "penalty.decided", "credit.penalty.forgiven", "CREDIT.PENALTY.DECIDED"]
)
def test_unknown_types(name: str) -> None:
    assert rejection(name, {}).code == Reason.UNKNOWN_TYPE


@pytest.mark.parametrize("data", [None, [], "{}", 3])
def test_data_must_be_an_object(data: object) -> None:
    assert rejection("credit.ban.lifted", data).code == Reason.INVALID_ATTRIBUTE


# -- upcasting --------------------------------------------------------------------------


def test_upcast_is_identity_at_the_current_version() -> None:
    data = sample_data("credit.penalty.decided")
    assert upcast("credit.penalty.decided", 1, data) is data


@pytest.mark.parametrize("version", [0, 2, -1])
def test_upcast_refuses_unknown_versions(version: int) -> None:
    with pytest.raises(ValueError):
        upcast("credit.penalty.decided", version, {})


def test_upcast_applies_each_step_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    base = EVENT_TYPES["credit.ban.lifted"]
    v3 = EventType(
        name=base.name,
        kind=base.kind,
        action=base.action,
        model=base.model,
        version=3,
        upcasters={1: lambda d: {**d, "v2": True}, 2: lambda d: {**d, "v3": d["v2"]}},
    )
    monkeypatch.setattr(vocabulary, "EVENT_TYPES", {base.name: v3})
    assert upcast(base.name, 1, {"ban": "x"}) == {"ban": "x", "v2": True, "v3": True}
    assert upcast(base.name, 2, {"ban": "x", "v2": 1}) == {"ban": "x", "v2": 1, "v3": 1}
    with pytest.raises(InvalidEvent):
        upcast("credit.penalty.decided", 1, {})
