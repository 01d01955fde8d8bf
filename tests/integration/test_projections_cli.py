"""The read-side commands, as a user drives them (both stores)."""

from __future__ import annotations

import argparse

import orjson
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli.reads import register
from entrypoints.settings import Settings
from events.envelope import parse_submission
from tests.integration.projection_data import load_demo
from tests.unit.events.samples import STORY, SUBJECT


def run(url: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ledger")
    register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(argv)
    code: int = args.handler(args, Settings(database_url=url))
    return code


@pytest.fixture
def story_url(store_url: str) -> str:
    app = bootstrap(Settings(database_url=store_url))
    outcomes = app.submit(parse_submission(orjson.dumps(STORY)), system=True)
    assert all(o.status == "recorded" for o in outcomes), [o.to_json() for o in outcomes]
    app.recorder.datastore.close()  # type: ignore[attr-defined]
    return store_url


def test_standing_disclosure_history_for_people_and_machines(
    story_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(story_url, "standing", SUBJECT, "--as-of", "2024-03-02") == 0
    out = capsys.readouterr().out
    assert "信用等级 grade D · 分数 score 40" in out and "serious-dishonesty" in out

    assert run(story_url, "standing", SUBJECT, "--json") == 0
    body = orjson.loads(capsys.readouterr().out)
    assert {"subject", "grade", "score", "explanation", "measures", "lists", "suspended"} <= set(
        body
    )

    assert run(story_url, "disclosure", SUBJECT, "--as-of", "2024-03-02", "--json") == 0
    body = orjson.loads(capsys.readouterr().out)
    for item in body["items"]:
        assert {"event_id", "published", "from", "until", "publish_by", "late", "reason"} <= set(
            item
        )
    text = orjson.dumps(body).decode()
    assert "11010519491231002X" not in text and "11****************" in text
    assert "id_number_protected" not in text and '"enc"' not in text

    assert run(story_url, "history", SUBJECT) == 0
    text = capsys.readouterr().out
    assert "traceable history" in text and "#1  自愿注册 registration submitted" in text
    assert run(story_url, "history", SUBJECT, "--json", "--known-at", "2099-01-01") == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert [r["seq"] for r in rows] == list(range(1, len(STORY) + 1))
    assert {
        "seq",
        "id",
        "source",
        "type",
        "time",
        "recorded_us",
        "data",
        "hash",
        "prev",
        "position",
        "changes",
    } <= set(rows[0])


@pytest.mark.parametrize(
    "argv",
    [
        ("standing", "91440300708461136A"),
        ("disclosure", "9144030070846113"),
        ("history", SUBJECT, "--as-of", "yesterday"),
        ("standing", SUBJECT, "--known-at", "2026-13-01"),
        ("lists", "focus", "--as-of", "2026-02-30"),
    ],
)
def test_a_bad_code_or_instant_exits_2_with_a_clear_message(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    assert run(sqlite_url, *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ledger: ") and len(err.splitlines()) == 1


def test_an_unknown_subject_exits_1(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(sqlite_url, "standing", SUBJECT) == 1
    assert "no records of subject" in capsys.readouterr().err


def test_lists_and_rebuild(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    app = bootstrap(Settings(database_url=store_url))
    load_demo(app, 40)
    app.recorder.datastore.close()  # type: ignore[attr-defined]
    assert run(store_url, "lists", "serious-dishonesty", "--as-of", "2026-06-30", "--json") == 0
    captured = capsys.readouterr()
    body = orjson.loads(captured.out)
    assert body["complete"] and body["list"] == "serious-dishonesty"
    assert "views caught up" in captured.err
    assert run(store_url, "lists", "bans") == 0
    assert "市场和行业禁入 — " in capsys.readouterr().out
    assert run(store_url, "rebuild") == 0
    err = capsys.readouterr().err
    assert "rebuilt standing, disclosure, lists" in err and "events/s" in err
    assert run(store_url, "rebuild", "disclosure") == 0
    assert "rebuilt disclosure" in capsys.readouterr().err
