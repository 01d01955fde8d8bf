"""The registries name agencies, measures and incentive measures in both languages,
so English pages and texts show names, not codes (issue 18 item 1)."""

from __future__ import annotations

from entrypoints.rule_files import load_rules


def test_every_registry_entry_has_an_english_name() -> None:
    rules = load_rules()
    for code in rules.measures.codes():
        assert rules.label("measure", code, "en") != code
    for code in rules.incentives.measures:
        assert rules.label("incentive", code, "en") != code
    for kind in rules.agencies.kinds:
        assert rules.agencies.kinds[kind].name_en
    assert set(rules.agencies.regions_en) == set(rules.agencies.regions)


def test_agency_names_in_both_languages() -> None:
    rules = load_rules()
    assert rules.label("agency", "samr/440300") == "深圳市市场监管"
    assert rules.label("agency", "samr/440300", "en") == "Market Regulation, Shenzhen"
    assert rules.label("agency", "tax/000000", "en") == "Taxation, national"
    assert rules.label("agency", "nobody/440300", "en") == "nobody/440300"
    assert rules.label("measure", "public-criticism") == "通报批评、公开曝光"
    assert rules.label("measure", "public-criticism", "en") == "Public criticism and exposure"
    assert rules.label("incentive", "green-channel", "en").startswith("Green channel")
