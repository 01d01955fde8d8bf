"""Reading the rule and calendar files: the only place they are opened.

The rule data is package data of ``commands`` (``commands/rules/*.json``,
``commands/rules/warnings/*.json``, ``commands/calendars/*.json``,
``commands/agencies.json``) plus a deployment's own files (``LEDGER_RULES_DIR``,
``LEDGER_CALENDAR_DIR``, ``LEDGER_AGENCIES_FILE``). This module reads and decodes them and
hands ``(file name, JSON object)`` pairs to the pure parsers of ``commands`` (pydantic
models, :mod:`commands.parsing`), which never do I/O themselves.

* :func:`rule_services` — everything, from the settings' directories: what the composition
  root builds once at start-up and passes down;
* :func:`load_rules` — the packaged rules alone, loaded once per process (tests, tools, a
  bare ledger's default);
* one function per kind of file (:func:`rule_book`, :func:`procedures`, …) for the CLI
  commands and tests that need one part.

Errors: ``FileNotFoundError`` for a configured directory or file that does not exist,
``ValueError`` naming the file for anything malformed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from commands.agencies import Agencies
from commands.calendar import WorkingCalendar, YearCalendar
from commands.criteria import KIND_MEASURES, MeasuresList
from commands.incentives import Incentives
from commands.procedures import Procedures
from commands.rulesets import (
    KIND_INCENTIVES,
    KIND_PROCEDURES,
    KIND_RULE_SET,
    KINDS,
    RuleBook,
)
from commands.services import RuleServices
from commands.warning_rules import WarningBook

__all__ = [
    "agencies",
    "incentives",
    "load_rules",
    "measures_list",
    "procedures",
    "rule_book",
    "rule_services",
    "warning_book",
    "working_calendar",
    "year_calendar",
]

File = tuple[str, Mapping[str, Any]]
"""(file name for messages, its decoded JSON object)."""

_PACKAGE = "commands"
_PACKAGED_RULES = "the package's commands/rules"


def _package(*parts: str) -> Traversable:
    entry = resources.files(_PACKAGE)
    for part in parts:
        entry = entry / part
    return entry


def _decode(entry: Traversable | Path) -> Mapping[str, Any]:
    """One JSON object from a file; ``ValueError`` naming the file otherwise."""
    name = str(entry)
    try:
        obj = json.loads(entry.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(obj, Mapping):
        raise ValueError(f"{name}: a rules file must hold one JSON object")
    return obj


def _json_entries(directory: Traversable | Path) -> list[Traversable | Path]:
    """The ``*.json`` files of a directory, by name (other files are ignored)."""
    if not directory.is_dir():
        return []
    return sorted(
        (e for e in directory.iterdir() if e.name.endswith(".json") and e.is_file()),
        key=lambda e: e.name,
    )


def _existing(directory: Path, what: str) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{what} directory {directory} does not exist")
    return directory


def _rules_files(directories: Iterable[Path], kind: str) -> list[tuple[str, list[File]]]:
    """The files of ``kind`` in the package's rules folder, then in each directory given:
    ``(origin, [(file name, object)])`` in load order. Every file must name a known kind."""
    origins: list[tuple[str, list[Traversable | Path]]] = [
        (_PACKAGED_RULES, _json_entries(_package("rules")))
    ]
    for directory in directories:
        found = _existing(directory, "rules")
        origins.append((str(found), _json_entries(found)))
    groups: list[tuple[str, list[File]]] = []
    for origin, entries in origins:
        files: list[File] = []
        for entry in entries:
            obj = _decode(entry)
            file_kind = obj.get("kind")
            if file_kind not in KINDS:
                raise ValueError(
                    f"{entry}: `kind` is {file_kind!r}; expected one of "
                    f"{', '.join(map(repr, KINDS))}"
                )
            if file_kind == kind:
                files.append((str(entry), obj))
        groups.append((origin, files))
    return groups


def _flat(groups: list[tuple[str, list[File]]]) -> list[File]:
    return [file for _origin, files in groups for file in files]


def rule_book(directories: Iterable[Path] = ()) -> RuleBook:
    """The disclosure rule sets of the package and of each rules directory given (a later
    one replaces a rule set with the same id)."""
    return RuleBook.from_files(_rules_files(directories, KIND_RULE_SET))


def procedures(directories: Iterable[Path] = ()) -> Procedures:
    """The package's ``procedures.json`` merged with the ``procedures`` files given."""
    return Procedures.from_files(_flat(_rules_files(directories, KIND_PROCEDURES)))


def measures_list(directories: Iterable[Path] = ()) -> MeasuresList:
    """The package's measures list with the ``measures-list`` files given merged over it."""
    return MeasuresList.from_files(_flat(_rules_files(directories, KIND_MEASURES)))


def incentives(directories: Iterable[Path] = ()) -> Incentives:
    """The package's incentives list merged with the ``incentives`` files given."""
    return Incentives.from_files(_flat(_rules_files(directories, KIND_INCENTIVES)))


def warning_book(directories: Iterable[Path | None] = ()) -> WarningBook:
    """The shipped warning rule sets plus each ``<directory>/warnings/*.json`` (a later
    one replaces one with the same id; a directory without ``warnings/`` adds none)."""
    entries = _json_entries(_package("rules", "warnings"))
    for directory in directories:
        if directory is not None:
            entries += _json_entries(Path(directory) / "warnings")
    return WarningBook.from_files((str(e), _decode(e)) for e in entries)


def year_calendar(path: Path | Traversable) -> YearCalendar:
    """One working-day calendar file; ``ValueError`` names the file when it is malformed."""
    try:
        obj: Any = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return YearCalendar.from_json(obj, str(path))


def working_calendar(directories: Iterable[Path] = ()) -> WorkingCalendar:
    """The package's ``commands/calendars/*.json`` plus the ``*.json`` files of each
    directory given (e.g. ``LEDGER_CALENDAR_DIR``); two files that disagree about one
    year are a ``ValueError``."""
    entries = _json_entries(_package("calendars"))
    for directory in directories:
        entries += _json_entries(_existing(directory, "calendar"))
    return WorkingCalendar([year_calendar(e) for e in entries])


def agencies(extra: Iterable[Path] = ()) -> Agencies:
    """The packaged ``commands/agencies.json`` with each extra file merged over it."""
    files: list[File] = [("commands/agencies.json", _decode(_package("agencies.json")))]
    for path in extra:
        if not Path(path).is_file():
            raise FileNotFoundError(f"agencies file {path} does not exist")
        files.append((str(path), _decode(Path(path))))
    return Agencies.from_files(files)


def rule_services(
    calendar_dir: Path | None = None,
    rules_dir: Path | None = None,
    agencies_file: Path | None = None,
) -> RuleServices:
    """Every rule service from the packaged data plus the optional deployment files —
    what the composition root builds once (``LEDGER_CALENDAR_DIR``, ``LEDGER_RULES_DIR``,
    ``LEDGER_AGENCIES_FILE``)."""
    if calendar_dir is None and rules_dir is None and agencies_file is None:
        return load_rules()
    rules = [rules_dir] if rules_dir else []
    return RuleServices(
        calendar=working_calendar([calendar_dir] if calendar_dir else []),
        rulebook=rule_book(rules),
        procedures=procedures(rules),
        measures=measures_list(rules),
        agencies=agencies([agencies_file]) if agencies_file else _packaged_agencies(),
        incentives=incentives(rules),
        warnings=warning_book(rules),
    )


@cache
def _packaged_agencies() -> Agencies:
    return agencies()


@cache
def load_rules() -> RuleServices:
    """The packaged rule services alone, loaded once per process (shared: treat as
    read-only)."""
    return RuleServices(
        calendar=working_calendar(),
        rulebook=rule_book(),
        procedures=procedures(),
        measures=measures_list(),
        agencies=_packaged_agencies(),
        incentives=incentives(),
        warnings=warning_book(),
    )
