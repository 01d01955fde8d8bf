"""The traceable history: both clocks, links to what supersedes what, and what changed."""

from __future__ import annotations

from events.instants import parse_instant
from projections.history import history
from tests.unit.projections.test_standing import RULES, year


def _story() -> tuple[object, dict[str, str], object]:
    stream, ids = year()
    ids["correction"] = stream.add(
        "credit.record.corrected",
        "2026-03-10T10:00:00+08:00",
        {"target": ids["violation"], "changes": {"severity": "serious"}},
        recorded="2026-05-07T09:00:00+08:00",
    )
    return stream, ids, history(stream.subject, stream.records, None, None, RULES)


def test_every_record_keeps_the_raw_keys_and_says_what_it_changed() -> None:
    _, ids, result = _story()
    rows = result.to_json()  # type: ignore[attr-defined]
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert {"seq", "id", "source", "type", "time", "recorded_us", "data", "hash", "prev", "position"} <= set(row)
        assert "changes" in row and "links" in row
    by_id = {r["id"]: r for r in rows}
    assert by_id[ids["designation"]]["changes"]["standing"]["score"] == [82, 42]
    assert by_id[ids["designation"]]["changes"]["standing"]["lists"]["added"] == ["serious-dishonesty"]
    # repair is per record: the penalty's repair ends its disclosure only; the listing
    # and the measure resting on it end with the listing's own removal
    approval = by_id[ids["approval"]]["changes"]
    assert "measures" not in approval["standing"]
    assert {d["event_id"] for d in approval["disclosure"]} == {ids["penalty"]}
    removal = by_id[ids["removal"]]["changes"]
    assert removal["standing"]["measures"]["removed"] == [ids["measure"]]
    assert ids["designation"] in {d["event_id"] for d in removal["disclosure"]}


def test_corrections_link_both_ways_and_apply_from_the_target() -> None:
    _, ids, result = _story()
    rows = {r["id"]: r for r in result.to_json()}  # type: ignore[attr-defined]
    correction = rows[ids["correction"]]
    (link,) = correction["links"]
    assert (link["relation"], link["event_id"], link["changed"]) == (
        "corrects",
        ids["violation"],
        {"severity": ["general", "serious"]},
    )
    assert correction["effective_from"] == "2026-01-10T10:00:00+08:00"
    assert correction["changes"]["standing"]["score"] == [97, 82]  # −5 became −20
    relations = {(link["relation"], link["event_id"]) for link in rows[ids["violation"]]["links"]}
    assert ("corrected by", ids["correction"]) in relations
    objection = next(x for x in rows[ids["violation"]]["links"] if x["relation"] == "objection")
    assert (objection["outcome"], objection["resolved_by"]) == ("rejected", "r4")


def test_known_at_limits_the_history_to_what_was_recorded() -> None:
    stream, ids, _ = _story()
    earlier = history(stream.subject, stream.records, None, parse_instant("2026-05-01"), RULES)  # type: ignore[attr-defined]
    assert ids["correction"] not in [e.record.id for e in earlier.entries]
    assert ids["approval"] not in [e.record.id for e in earlier.entries]


def test_the_text_reads_like_a_record_an_auditor_can_check() -> None:
    _, ids, result = _story()
    text = result.text()  # type: ignore[attr-defined]
    assert "traceable history, 16 records" in text
    assert "#16  记录更正 record corrected" in text
    assert "(applies from 2026-01-10 10:00)" in text
    assert f"↳ corrects #2 {ids['violation']} (severity: general → serious)" in text
    assert "Δ score 82 → 42 (grade B → D)" in text
    assert "Δ lists: +serious-dishonesty" in text
    assert "basis 《中华人民共和国安全生产法》第九十九条 · document 深应急罚〔2026〕1号" in text
