"""Disclosure, table by table: which rule set, which period, which deadline, why it ended."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import orjson
import pytest

from commands.services import RuleServices
from entrypoints import rule_files
from events.instants import parse_instant
from events.personal import mask_id_number
from projections.disclosure import disclosure
from tests.unit.projections.records import Stream

RULES = rule_files.load_rules()


def item(stream: Stream, as_of: str, event_id: str, rules: RuleServices = RULES) -> dict:
    body = disclosure(stream.subject, stream.records, parse_instant(as_of), None, rules).to_json()
    found = [i for i in body["items"] if i["event_id"] == event_id]
    assert len(found) == 1, body["items"]
    return found[0]


# -- periods: severity × sector × rule set (by the decision's own date, in CST) -----------

PERIODS = [
    # decided (CST), severity, sector, published, reason
    (
        "2025-06-10T10:00:00+08:00",
        "minor",
        "food",
        True,
        "published: minor penalty, Order 58, 3 months–3 years, ends by 2028-06-10",
    ),
    (
        "2025-06-10T10:00:00+08:00",
        "general",
        "food",
        True,
        "published: general penalty, Order 58, 3 months–3 years, ends by 2028-06-10",
    ),
    (
        "2025-06-10T10:00:00+08:00",
        "serious",
        "food",
        True,
        "published: serious penalty, Order 58, 3 months–3 years, ends by 2028-06-10",
    ),
    (
        "2025-06-10T10:00:00+08:00",
        "general",
        "special-equipment",
        True,
        "published: general penalty in special-equipment, Order 58, 1 year–3 years, "
        "ends by 2028-06-10",
    ),
    (
        "2025-06-10T10:00:00+08:00",
        "minor",
        "work-safety",
        True,
        "published: minor penalty in work-safety, Order 58, 1 year–3 years, ends by 2028-06-10",
    ),
    (
        "2025-06-10T10:00:00+08:00",
        "serious",
        "fire-safety",
        True,
        "published: serious penalty in fire-safety, Order 58, 1 year–3 years, ends by 2028-06-10",
    ),
    # the last day of Order 58 and the first of Order 36, late in the evening / just
    # after midnight China time (the UTC dates differ)
    (
        "2026-03-31T23:30:00+08:00",
        "minor",
        "food",
        True,
        "published: minor penalty, Order 58, 3 months–3 years, ends by 2029-03-31",
    ),
    (
        "2026-04-01T00:30:00+08:00",
        "minor",
        "food",
        False,
        "not published: minor penalty (Order 36)",
    ),
    (
        "2026-04-01T10:00:00+08:00",
        "general",
        "food",
        True,
        "published: general penalty, Order 36, 3 months–1 year, ends by 2027-04-01",
    ),
    (
        "2026-04-01T10:00:00+08:00",
        "serious",
        "food",
        True,
        "published: serious penalty, Order 36, 1 year–3 years, ends by 2029-04-01",
    ),
    # Order 36 carries no sector minimum
    (
        "2026-05-06T10:00:00+08:00",
        "general",
        "work-safety",
        True,
        "published: general penalty, Order 36, 3 months–1 year, ends by 2027-05-06",
    ),
    (
        "2026-05-06T10:00:00+08:00",
        "minor",
        "special-equipment",
        False,
        "not published: minor penalty (Order 36)",
    ),
]


@pytest.mark.parametrize(("decided", "severity", "sector", "published", "reason"), PERIODS)
def test_periods_follow_the_rule_set_of_the_decision_date(
    decided: str, severity: str, sector: str, published: bool, reason: str
) -> None:
    stream = Stream()
    # recorded in June 2026, after Order 36 came into force: the decision's date decides
    pid = stream.penalty(decided, severity, sector, recorded="2026-06-15T09:00:00+08:00")
    got = item(stream, "2026-06-20", pid)
    assert (got["published"], got["reason"]) == (published, reason)
    if published:
        assert got["from"] == decided[:10]
    else:
        assert (got["from"], got["until"], got["publish_by"]) == (None, None, None)


def test_violation_records_follow_the_penalty_periods() -> None:
    stream = Stream()
    vid = stream.add(
        "credit.violation.recorded",
        "2026-04-20T10:00:00+08:00",
        {
            "behaviour": "FOOD-0201",
            "severity": "general",
            "sector": "food",
            "basis": "b",
            "document": "d",
        },
    )
    got = item(stream, "2026-05-01", vid)
    assert got["reason"] == (
        "published: general violation record, Order 36, 3 months–1 year, ends by 2027-04-20"
    )


# -- publication deadlines: 7 working days on the official calendar -----------------------

DEADLINES = [
    # act day, publish_by — across Spring Festival 2026 (holidays 15–23 Feb, make-up
    # working days Sat 14 Feb and Sat 28 Feb) and Mid-Autumn + National Day 2026
    # (holidays 25 Sep and 1–7 Oct, make-up working days Sun 20 Sep and Sat 10 Oct)
    ("2026-02-12", "2026-02-28"),
    ("2026-02-13", "2026-03-02"),
    ("2026-09-18", "2026-09-29"),
    ("2026-09-29", "2026-10-14"),
    ("2026-09-30", "2026-10-15"),
    ("2026-10-03", "2026-10-15"),
]


@pytest.mark.parametrize(("act", "publish_by"), DEADLINES)
def test_publication_deadline_counts_official_working_days(act: str, publish_by: str) -> None:
    stream = Stream()
    on_time = stream.penalty(f"{act}T10:00:00+08:00", recorded=f"{publish_by}T17:00:00+08:00")
    got = item(stream, "2026-12-01", on_time)
    assert (got["publish_by"], got["late"]) == (publish_by, False)
    stream = Stream()
    late = stream.penalty(f"{act}T10:00:00+08:00", recorded=f"{publish_by}T16:30:00Z")
    got = item(stream, "2026-12-01", late)  # 00:30 the next day in China
    assert (got["publish_by"], got["late"]) == (publish_by, True)


def test_a_deadline_in_an_unknown_year_is_refused_until_its_calendar_is_loaded(
    tmp_path: Path,
) -> None:
    stream = Stream()
    pid = stream.penalty("2026-12-28T10:00:00+08:00", "serious")
    got = item(stream, "2026-12-30", pid)
    assert got["publish_by"] is None and got["late"] is False
    assert "2027" in got["publish_by_note"] and "not loaded" in got["publish_by_note"]
    assert got["published"] is True  # the period itself needs no calendar

    (tmp_path / "2027.json").write_text(
        json.dumps(
            {
                "year": 2027,
                "source": "test data: New Year's Day 2027 only (not the official notice)",
                "holidays": ["2027-01-01"],
                "workdays": [],
            }
        ),
        encoding="utf-8",
    )
    loaded = dataclasses.replace(
        rule_files.load_rules(), calendar=rule_files.working_calendar([tmp_path])
    )
    got = item(stream, "2026-12-30", pid, loaded)
    assert (got["publish_by"], got["publish_by_note"]) == ("2027-01-07", None)


# -- ends ------------------------------------------------------------------------------------


def test_repair_ends_disclosure_and_its_revocation_restores_it() -> None:
    stream = Stream()
    pid = stream.penalty("2026-04-01T10:00:00+08:00", "general")
    request = stream.add(
        "credit.repair.requested",
        "2026-07-02T10:00:00+08:00",
        {"target": pid, "methods": ["commitment"]},
    )
    approval = stream.add(
        "credit.repair.approved", "2026-07-10T10:00:00+08:00", {"request": request, "reasons": "ok"}
    )
    stream.add(
        "credit.repair.revoked",
        "2026-09-01T10:00:00+08:00",
        {"approval": approval, "reason": "false"},
    )
    assert item(stream, "2026-07-09", pid)["published"] is True
    ended = item(stream, "2026-08-01", pid)
    assert (ended["published"], ended["reason"], ended["until"]) == (
        False,
        "ended 2026-07-10: repair approved",
        "2026-07-10",
    )
    again = item(stream, "2026-09-02", pid)
    assert again["published"] is True
    assert again["reason"] == (
        "published again since 2026-09-01 (repair revoked): general penalty, Order 36, "
        "3 months–1 year, ends by 2027-04-01"
    )
    assert again["periods"] == [["2026-04-01", "2026-07-10"], ["2026-09-01", "2027-04-01"]]


def test_the_maximum_period_ends_disclosure() -> None:
    stream = Stream()
    pid = stream.penalty("2026-04-01T10:00:00+08:00", "general")
    assert item(stream, "2027-03-31", pid)["published"] is True
    got = item(stream, "2027-04-01", pid)
    assert (got["published"], got["reason"]) == (False, "ended 2027-04-01: maximum period reached")


def test_a_withdrawn_decision_ends_and_a_revoked_one_never_was() -> None:
    stream = Stream()
    withdrawn = stream.penalty("2026-04-02T10:00:00+08:00", "serious")
    stream.add(
        "credit.penalty.withdrawn",
        "2026-06-01T10:00:00+08:00",
        {"penalty": withdrawn, "reason": "行政复议撤销"},
    )
    revoked = stream.penalty("2026-04-03T10:00:00+08:00", "serious")
    stream.add(
        "credit.record.revoked",
        "2026-08-01T10:00:00+08:00",
        {"target": revoked, "reason": "录入错误"},
    )
    assert item(stream, "2026-05-01", withdrawn)["published"] is True
    got = item(stream, "2026-06-02", withdrawn)
    assert (got["published"], got["reason"]) == (False, "ended 2026-06-01: decision withdrawn")
    # the revocation came in August but applies from the decision itself
    got = item(stream, "2026-05-01", revoked)
    assert got["published"] is False
    assert got["reason"].startswith("not published: record revoked by r4: 录入错误")


def test_lists_bans_and_public_measures_are_published_while_in_force() -> None:
    stream = Stream()
    pid = stream.penalty("2026-04-02T10:00:00+08:00", "serious")
    proposal = stream.add(
        "credit.list.proposed",
        "2026-04-10T10:00:00+08:00",
        {
            "list": "serious-dishonesty",
            "finding": pid,
            "planned_end": "2029-04-10",
            "basis": "b",
            "document": "d",
        },
    )
    designation = stream.add(
        "credit.list.designated",
        "2026-04-20T10:00:00+08:00",
        {"proposal": proposal, "basis": "b", "document": "d"},
    )
    ban = stream.add(
        "credit.ban.imposed",
        "2026-04-21T10:00:00+08:00",
        {
            "sector": "食品生产",
            "finding": pid,
            "until": "2026-10-20",
            "basis": "b",
            "document": "d",
        },
    )
    criticism = stream.add(
        "credit.measure.applied",
        "2026-04-22T10:00:00+08:00",
        {
            "measure": "public-criticism",
            "finding": designation,
            "until": None,
            "basis": "b",
            "document": "d",
        },
    )
    stream.add(
        "credit.list.removed",
        "2026-09-01T10:00:00+08:00",
        {"designation": designation, "reason": "revoked"},
    )
    got = item(stream, "2026-05-01", designation)
    assert got["published"] and got["reason"] == (
        "published: serious-dishonesty list (严重失信主体名单), planned end 2029-04-10"
    )
    assert item(stream, "2026-05-01", ban)["reason"] == (
        "published: market ban (市场和行业禁入) from 食品生产, ends by 2026-10-21"
    )
    assert item(stream, "2026-10-21", ban)["reason"] == "ended 2026-10-21: period over"
    assert item(stream, "2026-05-01", criticism)["published"] is True
    assert item(stream, "2026-09-02", designation)["reason"] == (
        "ended 2026-09-01: removed from the list (revoked)"
    )
    assert item(stream, "2026-09-02", criticism)["reason"] == (
        "ended 2026-09-01: the listing it rests on was removed"
    )


def test_responsible_persons_are_shown_with_the_identity_number_masked() -> None:
    stream = Stream()
    number = "44030119800101123X"
    person = stream.add(
        "credit.person.linked",
        "2026-04-02T10:00:00+08:00",
        {"role": "legal-representative", "name": "张三", "id_number": number},
    )
    stream.add(
        "credit.record.corrected",
        "2026-05-02T10:00:00+08:00",
        {"target": person, "changes": {"id_number": "440301198001011234"}},
    )
    body = disclosure(stream.subject, stream.records, parse_instant("2026-06-01"), None, RULES)
    text = orjson.dumps(body.to_json()).decode()
    assert number not in text and "440301198001011234" not in text
    got = item(stream, "2026-06-01", person)
    assert (got["name"], got["id_number"]) == ("张三", "44****************")
    assert mask_id_number("44030119800101123X") == "44****************"
    assert mask_id_number("12345") == "*****"


def test_an_encrypted_identity_number_is_shown_only_through_reveal() -> None:
    stream = Stream()
    protected = {"enc": "c2VjcmV0", "key": "k-1"}
    person = stream.add(
        "credit.person.linked",
        "2026-04-02T10:00:00+08:00",
        {"role": "principal", "name": "李四", "id_number": protected},
    )
    body = disclosure(stream.subject, stream.records, parse_instant("2026-06-01"), None, RULES)
    plain = body.to_json()
    assert "c2VjcmV0" not in orjson.dumps(plain).decode()
    (shown,) = [i for i in plain["items"] if i["event_id"] == person]
    assert shown["id_number"] is None and shown["reason"] == (
        "published: responsible person, 主要负责人 principal: 李四"
    )
    (shown,) = body.to_json(lambda value: "44****************")["items"]
    assert shown["id_number"] == "44****************"
