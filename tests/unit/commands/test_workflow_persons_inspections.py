"""What extends to responsible persons (§十二), and the reproducible spot-check draw."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from commands.decide import Accepted
from commands.workflows.common import day_start_us
from commands.workflows.inspections import draw, selection_events, simple_tier
from commands.workflows.persons import extensions_for_person, tenures
from entrypoints import rule_files
from ledger.sealing import MemoryKeyStore, protect
from tests.unit.commands.stream import BASIS, NOW_US, RULES, Stream, at

MEASURES = rule_files.load_rules().measures

NDRC = "ndrc/440300"


KEYS = MemoryKeyStore()
NUMBERS = {
    "pk-a": "11010519491231002X",
    "pk-b": "110105195001010011",
    "pk-old": "440301198001010012",
    "pk-new": "440301199001010013",
}


def key(person: str) -> str:
    """The person key id of a test person."""
    return KEYS.key_id(NUMBERS[person])


def link(s: Stream, day: str, person: str, role: str = "legal-representative") -> str:
    """Link a person as the ledger stores it: id_number protected (ledger.sealing)."""
    event = s.event(
        "credit.person.linked",
        at(day),
        {"role": role, "name": "张三", "id_number": NUMBERS[person]},
    )
    decision = s.submit(protect(event, KEYS))
    assert isinstance(decision, Accepted)
    return event.id


def listed(s: Stream, name: str) -> str:
    penalty = s.penalty("2025-02-10", "serious")
    proposal = s.proposal("2025-03-03", penalty, name=name)
    return s.ok(
        "credit.list.designated", at("2025-03-20"), {"proposal": proposal, **BASIS}, source=NDRC
    )


def test_serious_dishonesty_designation_and_its_measures_extend() -> None:
    s = Stream()
    link(s, "2025-01-02", "pk-a")
    designation = listed(s, "serious-dishonesty")
    s.ok(
        "credit.measure.applied",
        at("2025-03-21"),
        {"measure": "high-speed-rail-restriction", "finding": designation, "until": None, **BASIS},
        source=NDRC,
    )
    found = extensions_for_person(key("pk-a"), [s.state], NOW_US, MEASURES)
    assert [(e.kind, e.what, e.role) for e in found] == [
        ("designation", "serious-dishonesty", "legal-representative"),
        ("measure", "high-speed-rail-restriction", "legal-representative"),
    ]
    assert extensions_for_person(key("pk-b"), [s.state], NOW_US, MEASURES) == []
    s.ok(
        "credit.list.removed",
        at("2025-09-01"),
        {"designation": designation, "reason": "repaired"},
        source=NDRC,
    )
    assert [e.kind for e in extensions_for_person(key("pk-a"), [s.state], NOW_US, MEASURES)] == [
        "measure"
    ]
    assert [
        e.kind
        for e in extensions_for_person(
            key("pk-a"), [s.state], day_start_us(_d("2025-08-01")), MEASURES
        )
    ] == [
        "designation",
        "measure",
    ]


def test_a_focus_listing_does_not_extend_but_a_ban_does() -> None:
    s = Stream()
    link(s, "2025-01-02", "pk-a", "actual-controller")
    listed(s, "focus")
    penalty = s.penalty("2025-04-01", "serious")
    s.ok(
        "credit.ban.imposed",
        at("2025-04-10"),
        {"sector": "食品生产", "finding": penalty, "until": "2030-04-09", **BASIS},
    )
    (ban,) = extensions_for_person(key("pk-a"), [s.state], NOW_US, MEASURES)
    assert (ban.kind, ban.what, ban.role, ban.until) == (
        "ban",
        "食品生产",
        "actual-controller",
        _d("2030-04-09"),
    )


def test_a_predecessor_who_left_before_the_sanction_is_not_covered() -> None:
    s = Stream()
    link(s, "2024-01-02", "pk-old")
    link(s, "2025-01-02", "pk-new")  # the new legal representative replaces the old
    listed(s, "serious-dishonesty")
    assert [t.person for t in tenures(s.state)] == [key("pk-old"), key("pk-new")]
    assert extensions_for_person(key("pk-old"), [s.state], NOW_US, MEASURES) == []
    assert len(extensions_for_person(key("pk-new"), [s.state], NOW_US, MEASURES)) == 1


def _d(text: str):
    from datetime import date

    return date.fromisoformat(text)


# -- spot checks -------------------------------------------------------------------------


def population(n: int) -> dict[str, str]:
    tiers = ["high", "medium-high", "medium", "low"]
    return {f"C{i:04d}": tiers[i % 4] for i in range(n)}


RATIOS = {
    "high": Decimal("0.30"),
    "medium-high": Decimal("0.10"),
    "medium": Decimal("0.02"),
    "low": Decimal("0.01"),
}


def test_the_draw_is_reproducible_and_takes_the_ratio_rounded_up() -> None:
    first = draw(population(400), RATIOS, 7)
    assert first == draw(dict(reversed(list(population(400).items()))), RATIOS, 7)
    assert {t: len(c) for t, c in first.drawn.items()} == {
        "high": 30,
        "low": 1,
        "medium": 2,
        "medium-high": 10,
    }
    assert first.drawn != draw(population(400), RATIOS, 8).drawn
    for tier, codes in first.drawn.items():
        assert list(codes) == sorted(codes)
        assert all(population(400)[c] == tier for c in codes)


def test_tiers_without_a_ratio_are_reported() -> None:
    result = draw({"A1": "high", "A2": "unrated"}, {"high": Decimal("1")}, 1)
    assert result.drawn == {"high": ("A1",)} and result.unrated == {"unrated": 1}


def test_one_selection_event_per_drawn_subject() -> None:
    codes = ["91440300708461136T", "91310000MA1FL8L96X", "91330100MA2CXXXX1F"]
    result = draw({c: "high" for c in codes}, {"high": Decimal("0.30")}, 5)
    (event,) = selection_events(result, "d1", "2026-11-20T00:00:00+08:00", scheme="henan-2021")
    assert event.type == "credit.inspection.selected"
    assert event.id == f"d1/{event.subject}" and event.subject in codes
    assert event.data == {
        "draw": "d1",
        "seed": 5,
        "tier": "high",
        "ratio": "0.30",
        "population": 3,
        "drawn": 1,
        "scheme": "henan-2021",
    }


def test_simple_tier_follows_the_grade() -> None:
    clean = Stream()
    clean.ok(
        "credit.registration.submitted", at("2025-01-02"), {"category": "c", "description": "d"}
    )
    assert simple_tier(clean.state, NOW_US, RULES) == "low"
    heavy = Stream()
    listed(heavy, "serious-dishonesty")
    assert simple_tier(heavy.state, NOW_US, RULES) == "high"
    tiers = Counter(simple_tier(s.state, NOW_US, RULES) for s in (clean, heavy))
    assert tiers == {"low": 1, "high": 1}
