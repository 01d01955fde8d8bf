"""The public view (``projections.public``) and what the disclosure gives it: the
withdrawal notice (行政处罚法 Art. 48), the publication-ended marks, 已更正."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from entrypoints import rule_files
from events.instants import parse_instant
from projections.disclosure import disclosure
from projections.public import (
    EVERYTHING,
    PUBLIC,
    Audience,
    disclosure_for,
    ended_why,
    feed_change,
    members_for,
    published_items,
)
from tests.unit.projections.records import Stream

RULES = rule_files.load_rules()


def body(stream: Stream, as_of: str, known_at: str | None = None) -> dict[str, Any]:
    return disclosure(
        stream.subject,
        stream.records,
        parse_instant(as_of),
        None if known_at is None else parse_instant(known_at),
        RULES,
    ).to_json()


def ids(b: dict[str, Any]) -> set[str]:
    return {i["event_id"] for i in b["items"]}


def repaired_and_withdrawn() -> tuple[Stream, dict[str, str]]:
    s = Stream()
    kept = s.penalty("2026-04-02T10:00:00+08:00", "serious")
    repaired = s.penalty("2026-04-03T10:00:00+08:00", "general")
    request = s.add(
        "credit.repair.requested",
        "2026-07-10T10:00:00+08:00",
        {"target": repaired, "methods": ["commitment"]},
    )
    s.add(
        "credit.repair.approved", "2026-07-20T10:00:00+08:00", {"request": request, "reasons": "ok"}
    )
    withdrawn = s.penalty("2026-04-04T10:00:00+08:00", "serious")
    notice = s.add(
        "credit.penalty.withdrawn",
        "2026-08-03T10:00:00+08:00",
        {"penalty": withdrawn, "reason": "行政复议撤销"},
    )
    minor = s.penalty("2026-04-05T10:00:00+08:00", "minor")
    minor_withdrawn = s.add(
        "credit.penalty.withdrawn", "2026-05-05T10:00:00+08:00", {"penalty": minor, "reason": "x"}
    )
    return s, {
        "kept": kept,
        "repaired": repaired,
        "withdrawn": withdrawn,
        "notice": notice,
        "minor": minor,
        "minor_withdrawn": minor_withdrawn,
    }


def test_the_public_sees_at_any_instant_only_what_is_published_now() -> None:
    s, r = repaired_and_withdrawn()
    now = body(s, "2026-09-01")
    for as_of in ("2026-05-01", "2026-07-25", "2026-09-01"):
        at = body(s, as_of)
        shown = disclosure_for(PUBLIC, at, now)
        assert ids(shown) <= {r["kept"], r["notice"]}, as_of
        assert all(i["published"] for i in shown["items"])
    # on 2026-05-01 the repaired and the withdrawn penalties were public: not any more
    assert ids(disclosure_for(PUBLIC, body(s, "2026-05-01"), now)) == {r["kept"]}
    assert ids(disclosure_for(PUBLIC, now)) == {r["kept"], r["notice"]}
    # the roles that see everything see every item, ended ones marked
    everything = disclosure_for(EVERYTHING, now)
    assert {r["repaired"], r["withdrawn"], r["minor"]} <= ids(everything)


def test_a_withdrawal_leaves_a_notice_without_the_decision_for_the_notice_period() -> None:
    s, r = repaired_and_withdrawn()
    notice = next(i for i in body(s, "2026-09-01")["items"] if i["event_id"] == r["notice"])
    assert notice["kind"] == "withdrawal-notice" and notice["published"] is True
    assert (notice["agency"], notice["date"], notice["withdrawal_reason"]) == (
        "samr/440300",
        "2026-08-03",
        "行政复议撤销",
    )
    assert notice["notice_until"] == "2026-11-03"  # 3 months (commands/rules)
    assert not {"document", "amount", "basis", "kinds"} & notice.keys()
    assert r["withdrawn"] not in str(notice)
    later = next(i for i in body(s, "2026-11-04")["items"] if i["event_id"] == r["notice"])
    assert later["published"] is False
    # a minor penalty never published leaves no notice: nothing was withdrawn from view
    assert r["minor_withdrawn"] not in ids(body(s, "2026-09-01"))


def test_a_revoked_decision_leaves_a_notice_only_if_it_was_public_then() -> None:
    s = Stream()
    public = s.penalty("2026-04-02T10:00:00+08:00", "general")
    revocation = s.add(
        "credit.record.revoked", "2026-05-02T10:00:00+08:00", {"target": public, "reason": "无效"}
    )
    expired = s.penalty("2025-01-02T10:00:00+08:00", "general", sector="food")
    late = s.add(
        "credit.record.revoked", "2026-05-03T10:00:00+08:00", {"target": expired, "reason": "无效"}
    )
    b = body(s, "2026-06-01")
    assert revocation in ids(disclosure_for(PUBLIC, b))
    assert late in ids(b)  # Order 58: 2025-01-02 + 3 years is still public on 2026-05-03
    marks = {i["event_id"]: i.get("publication_ended") for i in b["items"]}
    assert marks[public] is not None and marks[public]["why"] == "revoked"
    assert (marks[public]["on"], marks[public]["by"]) == ("2026-05-02", revocation)


def test_ended_items_are_marked_with_why_and_when() -> None:
    s, r = repaired_and_withdrawn()
    items = {i["event_id"]: i for i in body(s, "2026-09-01")["items"]}
    assert items[r["repaired"]]["publication_ended"]["why"] == "repaired"
    assert items[r["repaired"]]["publication_ended"]["on"] == "2026-07-20"
    assert items[r["withdrawn"]]["publication_ended"]["why"] == "withdrawn"
    assert items[r["withdrawn"]]["publication_ended"]["on"] == "2026-08-03"
    assert "publication_ended" not in items[r["kept"]]


@pytest.mark.parametrize(
    ("cause", "why"),
    [
        ("maximum period reached", "expired"),
        ("period over", "expired"),
        ("removed from the list (expired)", "expired"),
        ("removed from the list (repaired)", "repaired"),
        ("removed from the list (revoked)", "revoked"),
        ("repair approved", "repaired"),
        ("repair of r3 approved", "repaired"),
        ("decision withdrawn", "withdrawn"),
        ("the decision it rests on was withdrawn", "withdrawn"),
        ("the listing it rests on was removed", "removed"),
        ("ban lifted", "lifted"),
        ("measure lifted", "lifted"),
        ("record revoked", "revoked"),
        ("notice period over", "expired"),
        ("something new", "ended"),
    ],
)
def test_why_publication_ended(cause: str, why: str) -> None:
    assert ended_why(cause) == why


def test_a_correction_shows_the_corrected_value_marked_at_every_instant() -> None:
    s = Stream()
    fine = s.penalty("2026-04-02T10:00:00+08:00", "general")
    s.add(
        "credit.record.corrected",
        "2026-06-01T10:00:00+08:00",
        {"target": fine, "changes": {"amount": "1500.00"}},
        recorded="2026-06-01T11:00:00+08:00",
    )
    now = body(s, "2026-09-01")
    before_known = body(s, "2026-05-01", known_at="2026-05-01")  # what it showed then
    assert next(iter(before_known["items"]))["amount"] == "150000.00"
    shown = disclosure_for(PUBLIC, before_known, now)["items"]
    assert [(i["amount"], i["corrected"]["mark"]) for i in shown] == [("1500.00", "已更正")]
    assert shown[0]["from"] == "2026-04-02"


def test_an_agency_sees_its_own_records_whole_and_others_as_the_public() -> None:
    s = Stream()
    own = s.penalty("2025-01-02T10:00:00+08:00", "general")  # Order 58 → public now
    s.add("credit.penalty.withdrawn", "2025-03-01T10:00:00+08:00", {"penalty": own, "reason": "x"})
    other = s.add(
        "credit.penalty.decided",
        "2025-01-03T10:00:00+08:00",
        {**s.records[0].data},
        source="tax/440300",
    )
    s.add(
        "credit.penalty.withdrawn",
        "2025-03-02T10:00:00+08:00",
        {"penalty": other, "reason": "x"},
        source="tax/440300",
    )
    b = body(s, "2026-01-01")
    assert own in ids(disclosure_for(Audience(agency="samr/440300"), b))
    assert other not in ids(disclosure_for(Audience(agency="samr/440300"), b))
    assert {own, other} <= ids(disclosure_for(Audience(subject=s.subject), b))
    assert not {own, other} & ids(disclosure_for(PUBLIC, b))


def test_list_members_past_are_shown_to_the_public_only_while_listed_now() -> None:
    def member(event_id: str, since: str) -> dict[str, Any]:
        return {"event_id": event_id, "subject": "S", "agency": "ndrc/440300", "since": since}

    at = {"members": [member("gone", "2024-01-01"), member("kept", "2024-02-01")], "count": 2}
    now = {"members": [{**member("kept", "2024-02-01"), "document": "new"}], "count": 1}
    shown = members_for(PUBLIC, at, now)
    assert [(m["event_id"], m["document"]) for m in shown["members"]] == [("kept", "new")]
    assert shown["count"] == 1
    assert members_for(EVERYTHING, at, now)["count"] == 2
    assert members_for(Audience(agency="ndrc/440300"), at, now)["count"] == 2


def test_the_feed_carries_removals_by_id_and_nothing_of_what_is_not_public_now() -> None:
    now = published_items([{"event_id": "a", "published": True, "amount": "2"}])
    ended = feed_change("ended", {"event_id": "b", "published": False, "amount": "9"}, now)
    assert ended == {"event_id": "b", "published": False}
    assert feed_change("published", {"event_id": "b", "published": True}, now) is None
    shown = feed_change("published", {"event_id": "a", "published": True, "amount": "1"}, now)
    assert shown is not None and shown["amount"] == "2"


def test_a_corrected_listing_is_marked_in_the_register() -> None:
    from projections.membership import membership_rows
    from projections.timeline import select

    s = Stream()
    finding = s.penalty("2026-04-02T10:00:00+08:00", "serious")
    proposal = s.add(
        "credit.list.proposed",
        "2026-04-10T10:00:00+08:00",
        {"list": "serious-dishonesty", "finding": finding, "planned_end": "2027-04-09"},
    )
    designation = s.add(
        "credit.list.designated",
        "2026-04-20T10:00:00+08:00",
        {"proposal": proposal, "document": "旧文号"},
    )
    s.add(
        "credit.record.corrected",
        "2026-05-01T10:00:00+08:00",
        {"target": designation, "changes": {"document": "新文号"}},
    )
    (row,) = membership_rows(select(s.subject, s.records)).values()
    body = orjson.loads(row.body)
    assert body["document"] == "新文号"
    assert (body["corrected"]["mark"], body["corrected"]["fields"]) == ("已更正", ["document"])
