"""``ledger calendar load FILE``: the command the ``calendar-unknown`` refusal names
exists, validates the file, and makes the year known to the next start-up."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from commands.calendar import CalendarUnknown
from entrypoints import rule_files
from entrypoints.cli import build_parser, main
from entrypoints.cli.calendar import CalendarLoadError, load_calendar

TEST_2031 = {
    "year": 2031,
    "source": "TEST DATA — not the State Council's notice",
    "holidays": ["2031-01-01", "2031-01-02"],
    "workdays": ["2031-01-04"],
}


def _file(tmp_path: Path, body: object, name: str = "2031.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_refusal_names_a_command_that_exists() -> None:
    message = str(CalendarUnknown(2031))
    command = re.search(r"`ledger ([^`]+)`", message)
    assert command is not None
    args = build_parser().parse_args(command.group(1).split())
    assert callable(args.handler)


def test_loading_makes_the_year_known(tmp_path: Path) -> None:
    directory = tmp_path / "calendars"
    with pytest.raises(CalendarUnknown):
        rule_files.working_calendar([]).is_working_day(date(2031, 1, 2))
    target, status = load_calendar(_file(tmp_path, TEST_2031), directory)
    assert (target, status) == (directory / "2031.json", "loaded")
    calendar = rule_files.working_calendar([directory])
    assert not calendar.is_working_day(date(2031, 1, 2))  # a Thursday off
    assert calendar.is_working_day(date(2031, 1, 4))  # a make-up Saturday
    assert load_calendar(_file(tmp_path, TEST_2031), directory)[1] == "unchanged"


def test_a_different_calendar_for_a_loaded_year_needs_replace(tmp_path: Path) -> None:
    directory = tmp_path / "calendars"
    load_calendar(_file(tmp_path, TEST_2031), directory)
    changed = dict(TEST_2031, holidays=["2031-01-01"])
    with pytest.raises(CalendarLoadError, match="--replace"):
        load_calendar(_file(tmp_path, changed, "fixed.json"), directory)
    assert load_calendar(_file(tmp_path, changed, "fixed.json"), directory, replace=True)[1] == (
        "replaced"
    )
    assert not rule_files.working_calendar([directory]).is_working_day(date(2031, 1, 1))
    assert rule_files.working_calendar([directory]).is_working_day(date(2031, 1, 2))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (dict(TEST_2031, workdays=["2031-01-06"]), "Monday"),
        (dict(TEST_2031, holidays=["2030-12-31"]), "not in 2031"),
        ({**TEST_2031, "colour": "red"}, "unknown key"),
        (dict(TEST_2031, source=""), "source"),
    ],
)
def test_an_invalid_file_is_refused_and_nothing_written(
    tmp_path: Path, body: dict[str, object], words: str
) -> None:
    directory = tmp_path / "calendars"
    with pytest.raises(CalendarLoadError, match=words):
        load_calendar(_file(tmp_path, body), directory)
    assert not (directory / "2031.json").exists()


def test_the_cli_needs_the_calendar_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, TEST_2031)
    monkeypatch.delenv("LEDGER_CALENDAR_DIR", raising=False)
    assert main(["calendar", "load", str(path)]) == 2
    assert "LEDGER_CALENDAR_DIR" in capsys.readouterr().err
    monkeypatch.setenv("LEDGER_CALENDAR_DIR", str(tmp_path / "cal"))
    assert main(["calendar", "load", str(path)]) == 0
    assert "calendar 2031 loaded" in capsys.readouterr().out
    assert (tmp_path / "cal" / "2031.json").exists()
