"""The event vocabulary: every type, its model, version, upcasters and references.

Type strings are ``credit.<kind>.<action>`` (DOMAIN.md). :data:`EVENT_TYPES`
maps each to an :class:`EventType`, derived from the type's declaration
(:mod:`events.catalogue`, :mod:`events.declarations`) and rebuilt when a type
is declared; :func:`validate_data` checks an event's ``data`` against it and
:func:`upcast` lifts stored data of an older schema version to the current one.
Validation reuses each model's compiled pydantic-core validator.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

import events.declarations  # noqa: F401  (declares the packaged types)
from events.catalogue import CATALOGUE, Declaration, Upcaster, on_change
from events.dates import date_range
from events.errors import rejection_from_validation_error
from events.fields import DATE_PATTERN, NONBLANK_PATTERN, PATTERN_EXPECTATIONS
from events.models import DocumentedData
from events.reasons import InvalidEvent, Reason
from events.scan import check_json_values, json_path

__all__ = [
    "BASIS_REQUIRED_TYPES",
    "DATE_FIELDS",
    "EVENT_TYPES",
    "FINDING_TYPES",
    "EventType",
    "Upcaster",
    "event_type",
    "ref_fields",
    "upcast",
    "validate_data",
]


@dataclass(frozen=True)
class EventType:
    """One event type of the vocabulary.

    ``references`` maps each ref field of ``data`` to the event types it may
    point at (checked by ``commands/`` against the subject's stream).
    ``upcasters[v]`` lifts data of version ``v`` to ``v + 1``; there is one for
    every version below ``version``. ``is_finding`` is membership of
    :data:`FINDING_TYPES`. ``agency_bound`` and ``not_after_revocation`` name
    the reference field the structural decision checks for the submitting
    agency and for revocation (:class:`events.catalogue.Declaration`).
    """

    name: str
    kind: str
    action: str
    model: type[BaseModel]
    version: int = 1
    upcasters: Mapping[int, Upcaster] = field(default_factory=lambda: MappingProxyType({}))
    references: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    is_finding: bool = False
    agency_bound: str | None = None
    not_after_revocation: str | None = None


def _event_type(declaration: Declaration) -> EventType:
    return EventType(
        name=declaration.name,
        kind=declaration.kind,
        action=declaration.action,
        model=declaration.model,
        version=declaration.version,
        upcasters=MappingProxyType(dict(declaration.upcasters)),
        references=MappingProxyType(
            {f: t.resolve(CATALOGUE) for f, t in declaration.references.items()}
        ),
        is_finding=declaration.finding,
        agency_bound=declaration.agency_bound,
        not_after_revocation=declaration.not_after_revocation,
    )


_TYPES: dict[str, EventType] = {}
EVENT_TYPES: Mapping[str, EventType] = MappingProxyType(_TYPES)
"""Every event type of the vocabulary, by type string (read-only; a live view)."""

FINDING_TYPES: frozenset[str] = frozenset()
"""Types that establish dishonest conduct: what a `finding` reference may name."""
BASIS_REQUIRED_TYPES: frozenset[str] = frozenset()
"""Types whose `data` must carry `basis` and `document` (optional on the others)."""
DATE_FIELDS: frozenset[str] = frozenset()
"""Every `data` field that some type declares a date (due, deadline, until …)."""
_WITH_CHANGES: frozenset[str] = frozenset()

# Per type: the compiled validator, the top-level fields that accept null, and
# the top-level string fields with a format (date, money) → the format in words.
_VALIDATORS: dict[str, Any] = {}
_NULLABLE: dict[str, frozenset[str]] = {}
_HINTS: dict[str, dict[str, str]] = {}
_REF_FIELDS: dict[str, tuple[str, ...]] = {}


def ref_fields(type_name: str) -> tuple[str, ...]:
    """The reference fields of a type's ``data`` (``()`` for an unknown type): a dict
    lookup, for the hot paths that index references per record (writers' states, the
    timelines of reads and folds)."""
    return _REF_FIELDS.get(type_name, ())


def _derive() -> None:
    """Rebuild every table above from the catalogue (called on each declaration).

    ``EVENT_TYPES`` and the per-type dicts are updated in place, so a module
    holding them sees a newly declared type; the frozensets are rebound.
    """
    global FINDING_TYPES, BASIS_REQUIRED_TYPES, DATE_FIELDS, _WITH_CHANGES
    types = {name: _event_type(d) for name, d in CATALOGUE.items()}
    _TYPES.clear()
    _TYPES.update(types)
    for table in (_VALIDATORS, _NULLABLE, _HINTS, _REF_FIELDS):
        table.clear()
    for name, t in types.items():
        _REF_FIELDS[name] = tuple(t.references)
        _VALIDATORS[name] = t.model.__pydantic_validator__
        _NULLABLE[name] = frozenset(
            f for f, info in t.model.model_fields.items() if type(None) in get_args(info.annotation)
        )
        _HINTS[name] = _hints(t.model)
    FINDING_TYPES = frozenset(name for name, t in types.items() if t.is_finding)
    BASIS_REQUIRED_TYPES = frozenset(
        name for name, t in types.items() if issubclass(t.model, DocumentedData)
    )
    DATE_FIELDS = frozenset(
        f
        for hints in _HINTS.values()
        for f, expectation in hints.items()
        if expectation == PATTERN_EXPECTATIONS[DATE_PATTERN]
    )
    _WITH_CHANGES = frozenset(
        name for name, t in types.items() if "changes" in t.model.model_fields
    )


def _hints(model: type[BaseModel]) -> dict[str, str]:
    """Top-level string fields with a format (date, money) → the format in words."""
    hints: dict[str, str] = {}
    for field_name, prop in model.model_json_schema()["properties"].items():
        for arm in prop.get("anyOf", [prop]):
            pattern = arm.get("pattern")
            if pattern in PATTERN_EXPECTATIONS and pattern != NONBLANK_PATTERN:
                hints[field_name] = PATTERN_EXPECTATIONS[pattern]
    return hints


on_change(_derive)


def _check_changed_dates(type_name: str, changes: object) -> None:
    """Refuse a date field of ``changes`` that names a real day outside the accepted range.

    Which fields the target's type has is known only against the stream
    (``commands/``); here any field some type declares a date is held to the range.
    """
    if not isinstance(changes, dict):
        return
    for name, value in changes.items():
        if name in DATE_FIELDS and isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                continue  # not a date at all: the target's model decides (commands/)
            date_range().check_day(f"{type_name}: {json_path(('changes', name))}", day)


def event_type(type_name: object) -> EventType:
    """The :class:`EventType` of ``type_name``, or ``InvalidEvent(UNKNOWN_TYPE)``.

    The message suggests close matches from the vocabulary.
    """
    found = EVENT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if found is not None:
        return found
    close = difflib.get_close_matches(str(type_name), list(EVENT_TYPES), n=3, cutoff=0.6)
    hint = (
        "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        if close
        else "; types are credit.<kind>.<action> as listed in the vocabulary (DOMAIN.md)"
    )
    raise InvalidEvent(
        Reason.UNKNOWN_TYPE,
        f"unknown event type {type_name!r}{hint}",
        suggestions=close,
    )


def validate_data(type_name: str, data: object) -> int:
    """Validate ``data`` for ``type_name``; return the type's current schema version.

    Raises :class:`InvalidEvent`, checked in this order: ``UNKNOWN_TYPE``;
    ``INVALID_ATTRIBUTE`` (data is not an object); ``FLOAT_NOT_ALLOWED`` (a float
    anywhere in data); ``INVALID_FIELD`` (an integer beyond ±(2**53 − 1) or a
    non-JSON value); ``MISSING_FIELD`` (required fields absent, all named);
    ``INVALID_FIELD`` (the first wrong field: its path and what is expected);
    ``DATE_OUT_OF_RANGE`` (a date field, also one inside ``changes``, outside
    :func:`events.dates.date_range`).
    ``details["fields"]`` lists the failing fields. ``data`` is not modified.
    """
    etype = event_type(type_name)
    name = etype.name
    if not isinstance(data, dict):
        raise InvalidEvent(
            Reason.INVALID_ATTRIBUTE,
            f"{name}: data must be a JSON object, got {type(data).__name__}",
            attribute="data",
        )
    check_json_values(data, name)
    try:
        _VALIDATORS[name].validate_python(data)
    except ValidationError as exc:
        raise rejection_from_validation_error(name, exc, _NULLABLE[name], _HINTS[name]) from None
    if name in _WITH_CHANGES:
        _check_changed_dates(name, data.get("changes"))
    return etype.version


def upcast(type_name: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Lift ``data`` stored at schema ``version`` to the type's current version.

    Applies ``upcasters[version]``, ``upcasters[version + 1]`` … in turn and
    returns the result; returns ``data`` itself when ``version`` is current.
    Raises ``InvalidEvent(UNKNOWN_TYPE)`` for an unknown type and ``ValueError``
    for a version below 1 or above the current one.
    """
    etype = event_type(type_name)
    if not 1 <= version <= etype.version:
        raise ValueError(
            f"{etype.name}: schema version {version} is not between 1 and {etype.version}"
        )
    for step in range(version, etype.version):
        data = etype.upcasters[step](data)
    return data
