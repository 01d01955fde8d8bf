"""Scenario: the other half of 双公示 — a licence granted is published (deadline 7 working
days), changed (the public sees the new matter, marked with the change), and withdrawn
(then absent from what the public sees, marked for the roles that see everything); a
change or withdrawal of a withdrawn licence is refused. An incentive measure must come from
the incentives list, is public while in force and ends once."""

from __future__ import annotations

from events.instants import parse_instant
from ledger.app import Ledger
from projections.public import PUBLIC, disclosure_for
from tests.scenarios.support import at, event, item, recorded, refused, views

SUBJECT = "91440300708461136T"
SAMR = "samr/440300"
PLATFORM = "credit-platform/440300"
LICENCE = {
    "license_type": "食品经营许可",
    "matter": "预包装食品销售",
    "valid_until": "2030-03-02",
    "basis": "《中华人民共和国食品安全法》第三十五条",
    "document": "JY14403050099999",
}


def _public(ledger: Ledger, moment: str) -> dict:
    found = views(ledger, SUBJECT, parse_instant(moment))
    assert found is not None
    return disclosure_for(PUBLIC, found[1], views(ledger, SUBJECT)[1])  # type: ignore[index]


def test_a_licence_is_published_changed_and_withdrawn(ledger: Ledger) -> None:
    (granted,) = recorded(
        ledger, event("credit.license.granted", SUBJECT, at("2025-03-03"), LICENCE, SAMR)
    )
    found = views(ledger, SUBJECT, parse_instant("2025-03-10"))
    assert found is not None
    shown = item(found[1], granted)
    assert shown is not None and shown["published"] and shown["kind"] == "license"
    assert shown["publish_by"] == "2025-03-12"  # 7 working days after Monday 3 March
    assert shown["document"] == "JY14403050099999" and shown["until"] == "2030-03-03"

    (changed,) = recorded(
        ledger,
        event(
            "credit.license.changed",
            SUBJECT,
            at("2025-06-02"),
            {"license": granted, "changes": {"matter": "预包装食品销售、散装食品销售"}},
            SAMR,
        ),
    )
    found = views(ledger, SUBJECT, parse_instant("2025-07-01"))
    assert found is not None
    shown = item(found[1], granted)
    assert shown is not None and shown["matter"] == "预包装食品销售、散装食品销售"
    assert shown["changed"] == ["2025-06-02"] and shown["changed_by"] == [changed]

    (withdrawn,) = recorded(
        ledger,
        event(
            "credit.license.revoked",
            SUBJECT,
            at("2025-09-01"),
            {"license": granted, "reason": "经营者申请注销"},
            SAMR,
        ),
    )
    everything = views(ledger, SUBJECT)
    assert everything is not None
    ended = item(everything[1], granted)
    assert ended is not None and not ended["published"]
    assert ended["publication_ended"]["why"] == "revoked"
    assert ended["publication_ended"]["by"] == withdrawn
    # the public no longer sees it, not even as of a day it was public
    for moment in ("2025-07-01", "2025-10-01"):
        assert item(_public(ledger, moment), granted) is None

    for closer in (
        event(
            "credit.license.revoked",
            SUBJECT,
            at("2025-09-02"),
            {"license": granted, "reason": "再次注销"},
            SAMR,
        ),
        event(
            "credit.license.changed",
            SUBJECT,
            at("2025-09-02"),
            {"license": granted, "changes": {"matter": "x"}},
            SAMR,
        ),
    ):
        outcome = refused(ledger, closer, "out-of-order")
        assert withdrawn in (outcome.message or "")
    assert changed


def test_an_expired_licence_is_no_longer_public(ledger: Ledger) -> None:
    (granted,) = recorded(
        ledger,
        event(
            "credit.license.granted",
            SUBJECT,
            at("2024-03-04"),
            {**LICENCE, "valid_until": "2025-03-03"},
            SAMR,
        ),
    )
    before = views(ledger, SUBJECT, parse_instant("2025-03-03"))
    after = views(ledger, SUBJECT, parse_instant("2025-03-04"))
    assert before is not None and after is not None
    assert item(before[1], granted)["published"]  # type: ignore[index]
    assert not item(after[1], granted)["published"]  # type: ignore[index]
    assert item(after[1], granted)["publication_ended"]["why"] == "expired"  # type: ignore[index]


def test_an_incentive_comes_from_the_list_and_ends_once(ledger: Ledger) -> None:
    basis = "《国务院关于建立完善守信联合激励和失信联合惩戒制度的指导意见》（国发〔2016〕33号）"
    refused(
        ledger,
        event(
            "credit.incentive.granted",
            SUBJECT,
            at("2025-04-01"),
            {"measure": "free-money", "basis": basis, "until": None},
            PLATFORM,
        ),
        "invalid-field",
    )
    (grant,) = recorded(
        ledger,
        event(
            "credit.incentive.granted",
            SUBJECT,
            at("2025-04-01"),
            {"measure": "green-channel", "basis": basis, "until": "2026-03-31"},
            PLATFORM,
        ),
    )
    found = views(ledger, SUBJECT, parse_instant("2025-05-01"))
    assert found is not None
    shown = item(found[1], grant)
    assert shown is not None and shown["published"]
    assert shown["measure_name"] == "行政审批绿色通道"
    recorded(
        ledger,
        event(
            "credit.incentive.ended",
            SUBJECT,
            at("2025-06-02"),
            {"grant": grant, "reason": "主体不再符合条件"},
            PLATFORM,
        ),
    )
    refused(
        ledger,
        event(
            "credit.incentive.ended",
            SUBJECT,
            at("2025-06-03"),
            {"grant": grant, "reason": "再次终止"},
            PLATFORM,
        ),
        "out-of-order",
    )
    now = views(ledger, SUBJECT)
    assert now is not None and not item(now[1], grant)["published"]  # type: ignore[index]


def test_a_licence_reads_as_published_from_its_grant(ledger: Ledger) -> None:
    (granted,) = recorded(
        ledger, event("credit.license.granted", SUBJECT, at("2025-03-03"), LICENCE, SAMR)
    )
    found = views(ledger, SUBJECT, parse_instant("2025-03-10"))
    assert found is not None
    reason = item(found[1], granted)["reason"]  # type: ignore[index]
    assert reason.startswith("published: licence (行政许可) 食品经营许可"), reason
