"""One declaration per event type: every type is complete, and a new type needs
its declaration (plus its decision) and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest
from pydantic import Field

from commands import decide as decisions
from commands.agencies import Agencies, Party
from commands.authority import AUTHORITY
from commands.decide import Accepted, Context, rule
from commands.state import SubjectState
from events import fields as codes_of
from events.catalogue import (
    CATALOGUE,
    FINDINGS,
    Declaration,
    Label,
    Relation,
    declare,
    withdraw,
)
from events.envelope import Envelope, parse_event
from events.labels import KINDS, UnknownLabel, codes, label, shown
from events.models import EventData, InterviewHeld, ListRemoved, ObjectionResolved
from events.reasons import REASON_TEXTS, Reason, Rejection
from events.schemas import schema_for
from events.vocabulary import EVENT_TYPES, validate_data
from projections.history import history
from tests.unit.commands.stream import RULES, Stream, at

jsonschema = pytest.importorskip("jsonschema")

SUBJECT = "91440300708461136T"


def _envelope(type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "sample-1",
        "source": "samr/440300",
        "type": type_name,
        "subject": SUBJECT,
        "time": "2024-01-10T10:00:00+08:00",
        "data": data,
    }


# -- every packaged type ----------------------------------------------------------------


def test_the_catalogue_is_the_vocabulary() -> None:
    assert list(CATALOGUE) == list(EVENT_TYPES)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_type_has_labels_a_valid_sample_and_a_decision(name: str) -> None:
    declaration = CATALOGUE[name]
    assert label("type", name).strip() and label("type", name, "en").strip()
    assert label("type", name) != label("type", name, "en")
    sample = dict(declaration.sample)
    assert validate_data(name, sample) == declaration.version
    jsonschema.Draft202012Validator(schema_for(name)).validate(_envelope(name, sample))
    assert name in AUTHORITY, f"{name} has no authority check (its decision)"
    if declaration.references:
        assert declaration.relation is not None


def test_a_missing_label_is_an_error_when_declared() -> None:
    with pytest.raises(ValueError, match="Chinese and English"):
        Label("", "penalty decided")
    with pytest.raises(ValueError, match="needs a relation"):
        Declaration(
            name="credit.test.noted",
            model=InterviewHeld,
            label=Label("测试", "test"),
            sample={},
            references={"finding": FINDINGS},
        )
    with pytest.raises(ValueError, match="not one of its reference fields"):
        Declaration(
            name="credit.test.noted",
            model=InterviewHeld,
            label=Label("测试", "test"),
            sample={},
            agency_bound="finding",
        )


def test_the_structural_decision_table_comes_from_the_declarations() -> None:
    bound = {n: t.agency_bound for n, t in EVENT_TYPES.items() if t.agency_bound}
    assert bound == {"credit.interview.held": "finding", "credit.rectification.ordered": "finding"}
    guarded = {n for n, t in EVENT_TYPES.items() if t.not_after_revocation}
    assert guarded == {
        "credit.objection.filed",
        "credit.repair.requested",
        "credit.record.corrected",
        "credit.record.revoked",
    }


# -- labels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "literal"),
    [
        ("severity", codes_of.Severity),
        ("penalty-kind", codes_of.PenaltyKind),
        ("procedure", codes_of.Procedure),
        ("commitment-type", codes_of.CommitmentType),
        ("repair-method", codes_of.RepairMethod),
    ],
)
def test_every_code_the_models_fix_has_a_label(kind: str, literal: Any) -> None:
    assert set(get_args(literal)) <= codes(kind)
    for code in get_args(literal):
        assert label(kind, code) != label(kind, code, "en")


@pytest.mark.parametrize(
    ("kind", "model", "field"),
    [
        ("list", codes_of, "ListName"),
        ("person-role", None, "role"),
        ("removal-reason", ListRemoved, "reason"),
        ("outcome", ObjectionResolved, "outcome"),
        ("interview-kind", InterviewHeld, "kind"),
    ],
)
def test_every_literal_field_has_labels(kind: str, model: Any, field: str) -> None:
    from events.models import PersonLinked

    if model is codes_of:
        values = set(get_args(codes_of.ListName))
    else:
        owner = PersonLinked if model is None else model
        values = set(get_args(owner.model_fields[field].annotation))
    assert values <= codes(kind)


def test_every_reason_has_texts_in_both_languages() -> None:
    assert set(REASON_TEXTS) == set(Reason)
    for reason in Reason:
        assert label("reason", str(reason)) and label("reason", str(reason), "en")
        assert REASON_TEXTS[reason].detail_zh.strip()


def test_an_unknown_code_or_kind_is_reported() -> None:
    with pytest.raises(UnknownLabel):
        label("penalty-kind", "flogging")
    with pytest.raises(UnknownLabel):
        label("colour", "red")
    assert shown("behaviour", "FOOD-0203") == "FOOD-0203"
    assert shown("behaviour", "wage-arrears") == "拖欠农民工工资"
    assert label("relation", "corrected by") == "被更正"
    assert "type" in KINDS and "reason" in KINDS


def test_relations_are_labelled_consistently() -> None:
    assert codes("relation") >= {"corrects", "corrected by", "lifts", "rests on"}


# -- a new type, declared in this test only -------------------------------------------


class WarningLetterSent(EventData):
    """A warning letter (警示函) about a finding."""

    finding: str = Field(min_length=1)
    letter: str = Field(min_length=1, description="The letter's number.")


NEW = "credit.letter.sent"


def _own_agency(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
    return None if party.role == "agency" else Rejection(Reason.NOT_AUTHORISED, "agencies only")


def _letter_numbered(state: SubjectState, event: Envelope, context: Context) -> Rejection | None:
    if str(event.data["letter"]).startswith("警"):
        return None
    return Rejection(Reason.INVALID_FIELD, "a warning letter's number starts with 警")


@pytest.fixture
def letter_type(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The declaration and the decision of a new type; nothing else is touched."""
    declare(
        Declaration(
            name=NEW,
            model=WarningLetterSent,
            label=Label("警示函", "warning letter sent"),
            sample={"finding": "penalty-1", "letter": "警〔2024〕1号"},
            references={"finding": FINDINGS},
            relation=Relation(Label("警示事由", "warns about"), Label("警示函", "warned by")),
            agency_bound="finding",
        )
    )
    monkeypatch.setitem(AUTHORITY, NEW, _own_agency)
    monkeypatch.setitem(decisions.RULES, NEW, [])
    rule(NEW)(_letter_numbered)
    try:
        yield NEW
    finally:
        withdraw(NEW)


def test_a_new_type_is_validated_decided_labelled_and_in_the_schema(letter_type: str) -> None:
    assert letter_type in EVENT_TYPES
    assert EVENT_TYPES[letter_type].references["finding"] == frozenset(
        n for n, t in EVENT_TYPES.items() if t.is_finding
    )
    schema = schema_for(letter_type)
    assert schema["properties"]["type"] == {"const": letter_type, "description": "The event type."}
    assert set(schema["properties"]["data"]["required"]) == {"finding", "letter"}
    assert label("type", letter_type) == "警示函"

    stream = Stream()
    penalty = stream.penalty("2024-01-10")
    refused = stream.refused(letter_type, at("2024-01-11"), {"finding": penalty, "letter": "L1"})
    assert refused.code == Reason.INVALID_FIELD
    other = stream.refused(
        letter_type, at("2024-01-11"), {"finding": penalty, "letter": "警1"}, source="tax/440300"
    )
    assert other.code == Reason.WRONG_AGENCY
    decision = stream.add(letter_type, at("2024-01-12"), {"finding": penalty, "letter": "警1"})
    assert isinstance(decision, Accepted)

    from tests.unit.projections.records import Stream as Records

    records = Records(SUBJECT)
    finding = records.add(
        "credit.penalty.decided",
        "2024-01-10T10:00:00+08:00",
        dict(CATALOGUE["credit.penalty.decided"].sample),
    )
    records.add(letter_type, "2024-01-12T10:00:00+08:00", {"finding": finding, "letter": "警1"})
    shown_history = history(SUBJECT, records.records, None, None, RULES)
    text = shown_history.text()
    assert "#2  警示函 warning letter sent  (credit.letter.sent)" in text
    rows = shown_history.to_json()
    assert rows[1]["links"][0]["relation"] == "warns about"
    assert rows[0]["links"][0]["relation"] == "warned by"


def test_a_declared_type_without_its_decision_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    declare(
        Declaration(
            name=NEW,
            model=WarningLetterSent,
            label=Label("警示函", "warning letter sent"),
            sample={"finding": "penalty-1", "letter": "警1"},
        )
    )
    try:
        validate_data(NEW, {"finding": "x", "letter": "警1"})
        stream = Stream()
        refused = stream.refused(NEW, at("2024-01-12"), {"finding": "x", "letter": "警1"})
        assert refused.code == Reason.NOT_AUTHORISED
    finally:
        withdraw(NEW)
    with pytest.raises(Exception, match="unknown event type"):
        parse_event(_envelope(NEW, {"finding": "x", "letter": "警1"}))
