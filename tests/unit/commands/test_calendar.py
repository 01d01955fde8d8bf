"""The working-day calendar: deadlines over the 2026 holidays, unknown years, data files.

Expected dates are written literally, worked out by hand from the 2026 notice as
`chinese_calendar` 1.11 holds it:

* New Year: off 2026-01-01 (Thu) – 01-03 (Sat); make-up working day 01-04 (Sun).
* Spring Festival: off 2026-02-15 (Sun) – 02-23 (Mon); make-up working days
  02-14 (Sat) and 02-28 (Sat).
* Mid-autumn: off 2026-09-25 (Fri) – 09-27 (Sun).
* National Day: off 2026-10-01 (Thu) – 10-07 (Wed); make-up working days
  09-20 (Sun) and 10-10 (Sat).
"""

from __future__ import annotations

import json
import pickle
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.calendar import CalendarUnknown, WorkingCalendar, YearCalendar
from entrypoints import rule_files
from events.reasons import Reason

D = date.fromisoformat

# Test data only: NOT the official 2027 calendar (which is not published yet).
FAKE_2027: dict[str, Any] = {
    "year": 2027,
    "source": "TEST DATA — not the State Council's notice",
    "holidays": ["2027-01-01"],
    "workdays": ["2027-01-03"],
}


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return rule_files.working_calendar()


def write(directory: Path, name: str, obj: Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


# -- the 2026 facts we rely on ------------------------------------------------------


def test_the_installed_package_holds_the_2026_facts_these_tests_assume() -> None:
    off = {d for d in chinese_calendar.holidays if d.year == 2026}
    worked = {d for d in chinese_calendar.workdays if d.year == 2026}
    spring = {D("2026-02-15") + timedelta(days=i) for i in range(9)}
    national = {D("2026-10-01") + timedelta(days=i) for i in range(7)}
    assert spring <= off and national <= off
    assert {D("2026-09-25"), D("2026-09-26"), D("2026-09-27")} <= off
    assert worked == {
        D("2026-01-04"),
        D("2026-02-14"),
        D("2026-02-28"),
        D("2026-05-09"),
        D("2026-09-20"),
        D("2026-10-10"),
    }


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-02-13", True),  # Friday before the make-up Saturday
        ("2026-02-14", True),  # make-up Saturday before Spring Festival
        ("2026-02-15", False),  # Sunday, first day off
        ("2026-02-16", False),  # Monday inside the holiday
        ("2026-02-21", False),  # Saturday inside the holiday
        ("2026-02-23", False),  # Monday, last day off
        ("2026-02-24", True),  # back to work
        ("2026-02-28", True),  # make-up Saturday after Spring Festival
        ("2026-03-01", False),  # ordinary Sunday
        ("2026-09-19", False),  # ordinary Saturday
        ("2026-09-20", True),  # make-up Sunday before National Day
        ("2026-09-25", False),  # Mid-autumn Friday
        ("2026-10-07", False),  # Wednesday, last day off
        ("2026-10-08", True),
        ("2026-10-10", True),  # make-up Saturday after National Day
        ("2026-10-11", False),  # ordinary Sunday
        ("2026-01-04", True),  # make-up Sunday after New Year
    ],
)
def test_is_working_day_2026(cal: WorkingCalendar, day: str, working: bool) -> None:
    assert cal.is_working_day(D(day)) is working


# -- deadlines -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected", "why"),
    [
        # Spring Festival 2026
        ("2026-02-13", 7, "2026-03-02", "Fri; 02-14 Sat make-up is day 1, 02-28 Sat day 6"),
        ("2026-02-14", 7, "2026-03-03", "last working day before the holiday (make-up Sat)"),
        ("2026-02-14", 1, "2026-02-24", "first working day after the holiday"),
        ("2026-02-18", 7, "2026-03-03", "start inside the holiday: not a day late"),
        ("2026-02-15", 1, "2026-02-24", "start on the first day off"),
        ("2026-02-23", 1, "2026-02-24", "start on the last day off"),
        ("2026-02-23", 5, "2026-02-28", "lands on the make-up Saturday"),
        ("2026-02-27", 1, "2026-02-28", "Fri → make-up Sat"),
        ("2026-02-28", 1, "2026-03-02", "make-up Sat → Mon"),
        # Mid-autumn and National Day 2026
        ("2026-09-19", 1, "2026-09-20", "ordinary Sat → make-up Sun"),
        ("2026-09-20", 7, "2026-09-30", "start on a make-up Sunday; skips Mid-autumn"),
        ("2026-09-30", 1, "2026-10-08", "last working day before National Day"),
        ("2026-09-30", 7, "2026-10-15", "10-10 make-up Sat counts"),
        ("2026-10-03", 3, "2026-10-10", "start inside the holiday; lands on make-up Sat"),
        ("2026-10-03", 7, "2026-10-15", "start inside the holiday: not a day late"),
        ("2026-10-09", 3, "2026-10-13", "withdrawal deadline over the make-up Sat"),
        # New Year, across a year boundary inside the known years
        ("2025-12-31", 1, "2026-01-04", "01-01..03 off, 01-04 make-up Sun"),
        ("2025-12-31", 2, "2026-01-05", ""),
        # ordinary weeks
        ("2026-03-06", 7, "2026-03-17", "Fri, two weekends"),
        ("2026-03-07", 7, "2026-03-17", "start on a Sat"),
    ],
)
def test_add_working_days_2026(
    cal: WorkingCalendar, start: str, n: int, expected: str, why: str
) -> None:
    assert cal.add_working_days(D(start), n) == D(expected), why
    assert cal.working_days_between(D(start), D(expected)) == n


@pytest.mark.parametrize(
    ("start", "ours", "find_workday_gives"),
    [
        ("2026-02-18", "2026-03-03", "2026-03-04"),
        ("2026-02-15", "2026-03-03", "2026-03-04"),
        ("2026-10-03", "2026-10-15", "2026-10-16"),
    ],
)
def test_not_a_day_late_like_find_workday(
    cal: WorkingCalendar, start: str, ours: str, find_workday_gives: str
) -> None:
    # The known defect DOMAIN.md warns about: find_workday counts a holiday start day.
    assert chinese_calendar.find_workday(7, D(start)) == D(find_workday_gives)
    assert cal.add_working_days(D(start), 7) == D(ours)


@pytest.mark.parametrize("n", [0, -1, True, 1.0])
def test_add_working_days_needs_a_positive_integer(cal: WorkingCalendar, n: Any) -> None:
    with pytest.raises(ValueError, match="n must be an integer"):
        cal.add_working_days(D("2026-03-02"), n)


def test_datetimes_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError, match="China Standard Time"):
        cal.add_working_days(datetime(2026, 3, 2, 23, 30), 1)
    with pytest.raises(TypeError):
        cal.is_working_day("2026-03-02")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        ("2026-02-13", "2026-02-13", 0),
        ("2026-02-13", "2026-02-14", 1),
        ("2026-02-14", "2026-02-23", 0),  # the whole holiday
        ("2026-02-14", "2026-02-28", 5),
        ("2026-02-28", "2026-02-14", -5),
        ("2026-09-30", "2026-10-10", 3),
        ("2026-01-01", "2026-12-31", 248),
    ],
)
def test_working_days_between(cal: WorkingCalendar, a: str, b: str, count: int) -> None:
    assert cal.working_days_between(D(a), D(b)) == count


def test_2026_has_248_working_days_by_an_independent_count() -> None:
    # 365 days − 104 weekend days − 19 weekday holidays + 6 make-up days = 248.
    weekday_holidays = [d for d in chinese_calendar.holidays if d.year == 2026 and d.weekday() < 5]
    assert len(weekday_holidays) == 19


# -- unknown years ----------------------------------------------------------------------


def test_known_years(cal: WorkingCalendar) -> None:
    assert set(range(2004, 2027)) <= cal.known_years()
    assert 2027 not in cal.known_years()
    assert cal.knows(D("2026-12-31")) and not cal.knows(D("2027-01-01"))


@pytest.mark.parametrize(
    ("start", "n"),
    [
        ("2026-12-25", 5),  # 12-28..31 are 4 working days; the 5th is in 2027
        ("2026-12-25", 7),
        ("2026-12-31", 1),
        ("2027-03-01", 1),
    ],
)
def test_deadline_in_an_unknown_year_is_refused(cal: WorkingCalendar, start: str, n: int) -> None:
    with pytest.raises(CalendarUnknown) as info:
        cal.add_working_days(D(start), n)
    exc = info.value
    assert exc.year == 2027
    assert exc.reason is Reason.CALENDAR_UNKNOWN
    assert "2027" in str(exc) and "not guessed" in str(exc)
    assert pickle.loads(pickle.dumps(exc)).year == 2027


def test_deadline_that_stays_in_the_known_year_does_not_need_the_next(
    cal: WorkingCalendar,
) -> None:
    assert cal.add_working_days(D("2026-12-25"), 4) == D("2026-12-31")


def test_other_unknown_lookups_raise(cal: WorkingCalendar) -> None:
    with pytest.raises(CalendarUnknown) as info:
        cal.is_working_day(D("2027-01-04"))
    assert info.value.year == 2027
    with pytest.raises(CalendarUnknown) as info:
        cal.working_days_between(D("2026-12-25"), D("2027-01-05"))
    assert info.value.year == 2027
    with pytest.raises(CalendarUnknown) as info:
        cal.is_working_day(D("2003-06-02"))
    assert info.value.year == 2003


def test_a_2027_file_makes_2027_computable(tmp_path: Path) -> None:
    write(tmp_path, "2027.json", FAKE_2027)
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    cal = rule_files.working_calendar([tmp_path])
    assert 2027 in cal.known_years()
    # 12-28..31 (4), 2027-01-01 off, 01-02 Sat, 01-03 make-up Sun (5), 01-04 (6), 01-05 (7)
    assert cal.add_working_days(D("2026-12-25"), 7) == D("2027-01-05")
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-03")
    assert cal.working_days_between(D("2026-12-25"), D("2027-01-05")) == 7
    assert cal.is_working_day(D("2027-01-01")) is False
    assert cal.is_working_day(D("2027-01-04")) is True
    assert cal.source(2027) == FAKE_2027["source"]
    with pytest.raises(CalendarUnknown) as info:
        cal.add_working_days(D("2027-12-31"), 1)
    assert info.value.year == 2028


def test_a_file_replaces_the_package_for_its_year(tmp_path: Path) -> None:
    write(
        tmp_path,
        "2026.json",
        {"year": 2026, "source": "TEST DATA", "holidays": ["2026-01-01"], "workdays": []},
    )
    cal = rule_files.working_calendar([tmp_path])
    assert cal.is_working_day(D("2026-02-16")) is True
    assert cal.is_working_day(D("2026-02-14")) is False


def test_two_different_files_for_one_year_are_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "2027.json", FAKE_2027)
    write(b, "2027.json", {**FAKE_2027, "holidays": ["2027-01-01", "2027-02-08"]})
    with pytest.raises(ValueError, match="two different calendars for 2027"):
        rule_files.working_calendar([a, b])
    # the same content twice is harmless
    assert 2027 in rule_files.working_calendar([a, a]).known_years()


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        rule_files.working_calendar([tmp_path / "nope"])


def test_the_package_ships_no_guessed_year() -> None:
    folder = Path(__file__).resolve().parents[3] / "commands" / "calendars"
    assert list(folder.glob("*.json")) == []


# -- YearCalendar -------------------------------------------------------------------------


def test_year_calendar_round_trips() -> None:
    yc = YearCalendar.from_json(FAKE_2027)
    assert yc.year == 2027
    assert yc.holidays == frozenset({D("2027-01-01")})
    assert yc.workdays == frozenset({D("2027-01-03")})
    assert yc.to_json() == FAKE_2027
    assert YearCalendar.from_json(yc.to_json()) == yc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holidays": ["2028-01-03"]}, "2028-01-03 is not in 2027"),
        ({"workdays": ["2026-12-27"]}, "2026-12-27 is not in 2027"),
        ({"workdays": ["2027-01-04"]}, "2027-01-04 is a Monday"),
        (
            {"holidays": ["2027-01-01", "2027-01-03"]},
            "2027-01-03 is listed both as a holiday and as a make-up working day",
        ),
        ({"holidays": ["2027-01-01", "2027-01-01"]}, "listed twice"),
        ({"holidays": ["2027-02-30"]}, "not a real calendar date"),
        ({"holidays": ["20270101"]}, "YYYY-MM-DD"),
        ({"holidays": [20270101]}, "YYYY-MM-DD"),
        ({"holidays": []}, "no holidays listed"),
        ({"holidays": "2027-01-01"}, "must be a list"),
        ({"source": ""}, "must name the official notice"),
        ({"year": "2027"}, "not an integer"),
        ({"year": True}, "not an integer"),
        ({"holiday": []}, "unknown key"),
    ],
)
def test_year_calendar_validation(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearCalendar.from_json({**FAKE_2027, **change})


def test_year_calendar_missing_key() -> None:
    obj = dict(FAKE_2027)
    del obj["source"]
    with pytest.raises(ValueError, match="missing `source`"):
        YearCalendar.from_json(obj)


def test_a_bad_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "2027.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"2027\.json"):
        rule_files.working_calendar([tmp_path])
    write(tmp_path, "2027.json", {**FAKE_2027, "workdays": ["2027-01-04"]})
    with pytest.raises(ValueError, match=r"2027\.json.*Monday"):
        rule_files.working_calendar([tmp_path])


# -- against an independent day-by-day count ----------------------------------------------


_PACKAGE_ONLY = WorkingCalendar()


def _naive(start: date, n: int) -> date:
    d = start
    while n:
        d += timedelta(days=1)
        if chinese_calendar.is_workday(d):
            n -= 1
    return d


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 11, 30)),
    n=st.integers(min_value=1, max_value=20),
)
def test_matches_a_day_by_day_count(start: date, n: int) -> None:
    cal = _PACKAGE_ONLY
    result = cal.add_working_days(start, n)
    assert result == _naive(start, n)
    assert cal.working_days_between(start, result) == n
    assert cal.is_working_day(result)
