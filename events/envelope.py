"""The CloudEvents 1.0 envelope (structured JSON mode) and submissions of many.

:func:`parse_event` validates one decoded JSON value into an :class:`Envelope`;
:func:`parse_submission` splits raw input (one object, an array, or JSON lines)
into envelopes and refusals, in input order; :func:`to_cloudevent` goes back.
Pure: no I/O, no clock (``time-in-future`` is decided downstream).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from events.codes import validate_subject_code
from events.reasons import InvalidEvent, Reason, Rejection
from events.rfc3339 import parse_time
from events.vocabulary import event_type, validate_data

__all__ = [
    "MAX_DATA_BYTES",
    "MAX_ID_LENGTH",
    "REQUIRED_ATTRIBUTES",
    "Envelope",
    "Refused",
    "parse_event",
    "parse_submission",
    "to_cloudevent",
]

REQUIRED_ATTRIBUTES = ("id", "source", "type", "subject", "time", "data")
"""What this ledger requires (CloudEvents itself makes subject, time and data optional)."""
MAX_ID_LENGTH = 200
"""The longest `id` or `source` accepted, in characters."""
MAX_DATA_BYTES = 65_536
"""The largest `data`, in bytes of compact JSON (orjson)."""

_STRING_ATTRIBUTES = ("id", "source", "type", "subject", "time")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode()


@dataclass(frozen=True, slots=True)
class Envelope:
    """One valid event.

    ``time`` is the valid time normalised to UTC (``YYYY-MM-DDTHH:MM:SSZ``, or
    with exactly 6 fractional digits when the microseconds are non-zero) and
    ``time_us`` the same instant in microseconds since the epoch. ``data`` is the
    submitted object itself, unchanged. ``schema_version`` is the version of the
    type's schema the data was validated against.
    """

    id: str
    source: str
    type: str
    subject: str
    time: str
    time_us: int
    data: dict[str, Any]
    schema_version: int


@dataclass(frozen=True, slots=True)
class Refused:
    """One submitted item that was refused.

    ``index`` is its 0-based position among the submitted items (array elements,
    or non-empty lines of JSON lines); ``id`` and ``source`` are copied from the
    item when they are strings, for reporting only.
    """

    index: int
    id: str | None
    source: str | None
    rejection: Rejection


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _invalid_attribute(attribute: str, message: str) -> InvalidEvent:
    return InvalidEvent(Reason.INVALID_ATTRIBUTE, message, attribute=attribute)


def _check_envelope(obj: dict[str, Any]) -> None:
    """specversion, presence, attribute types, content type (in that order)."""
    spec = obj.get("specversion")
    if spec != "1.0":
        if "specversion" not in obj:
            message = 'specversion is missing; this ledger accepts CloudEvents "1.0"'
        else:
            message = f'specversion must be the string "1.0", got {spec!r}'
        raise InvalidEvent(Reason.SPECVERSION, message, attribute="specversion")
    missing = [a for a in REQUIRED_ATTRIBUTES if a not in obj]
    if missing:
        optional = [a for a in missing if a in ("subject", "time", "data")]
        note = (
            f" (CloudEvents makes {', '.join(optional)} optional, but this ledger requires them)"
            if optional
            else ""
        )
        raise InvalidEvent(
            Reason.MISSING_ATTRIBUTE,
            f"missing required attribute{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}{note}",
            attributes=missing,
        )
    for attribute in _STRING_ATTRIBUTES:
        value = obj[attribute]
        if not isinstance(value, str):
            raise _invalid_attribute(
                attribute, f"{attribute} must be a string, got {_json_kind(value)}"
            )
        if not value.strip():
            raise _invalid_attribute(attribute, f"{attribute} must not be empty")
    for attribute in ("id", "source"):
        value = obj[attribute]
        if len(value) > MAX_ID_LENGTH:
            raise _invalid_attribute(
                attribute,
                f"{attribute} has {len(value)} characters; at most {MAX_ID_LENGTH} are allowed",
            )
        bad = None if value.isprintable() else _CONTROL.search(value)  # controls are Cc
        if bad:
            raise _invalid_attribute(
                attribute,
                f"{attribute} contains the control character {bad.group()!r} "
                f"at position {bad.start() + 1}",
            )
    content_type = obj.get("datacontenttype")
    if content_type is not None:
        media = None
        if isinstance(content_type, str):
            media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise InvalidEvent(
                Reason.CONTENT_TYPE,
                f"datacontenttype must be application/json, got {content_type!r}",
                attribute="datacontenttype",
            )


def parse_event(obj: object) -> Envelope:
    """Validate one decoded CloudEvent (structured JSON mode) into an :class:`Envelope`.

    Raises :class:`InvalidEvent` with the first failure, checked in this order:
    ``NOT_AN_OBJECT``; ``SPECVERSION`` (missing or not "1.0");
    ``MISSING_ATTRIBUTE`` (any of id, source, type, subject, time, data, all
    named); ``INVALID_ATTRIBUTE`` (id, source, type, subject, time not non-empty
    strings; id or source over 200 characters or with control characters);
    ``CONTENT_TYPE`` (datacontenttype other than application/json, parameters
    allowed; null counts as absent); ``UNKNOWN_TYPE``; the subject code reasons
    (:func:`~events.codes.validate_subject_code`); ``INVALID_TIME``;
    ``DATA_TOO_LARGE`` (over 64 KiB as compact JSON); then the data reasons of
    :func:`~events.vocabulary.validate_data`. Other attributes (extensions) are
    allowed and ignored.
    """
    if not isinstance(obj, dict):
        raise InvalidEvent(
            Reason.NOT_AN_OBJECT,
            f"expected a JSON object (one CloudEvent), got {_json_kind(obj)}",
        )
    _check_envelope(obj)
    etype = event_type(obj["type"])
    subject = validate_subject_code(obj["subject"])
    time, time_us = parse_time(obj["time"])
    data = obj["data"]
    try:
        size: int | None = len(orjson.dumps(data))
    except TypeError:  # orjson.JSONEncodeError: not JSON; validate_data names the culprit
        size = None
    if size is not None and size > MAX_DATA_BYTES:
        raise InvalidEvent(
            Reason.DATA_TOO_LARGE,
            f"data is {size} bytes as JSON; at most {MAX_DATA_BYTES} (64 KiB) are allowed",
            size=size,
            limit=MAX_DATA_BYTES,
        )
    version = validate_data(etype.name, data)
    if size is None:  # pragma: no cover - validate_data refuses what orjson cannot encode
        raise _invalid_attribute("data", "data cannot be encoded as JSON")
    return Envelope(
        id=obj["id"],
        source=obj["source"],
        type=etype.name,
        subject=subject,
        time=time,
        time_us=time_us,
        data=data,
        schema_version=version,
    )


def _attempt(index: int, item: object) -> Envelope | Refused:
    try:
        return parse_event(item)
    except InvalidEvent as exc:
        ident = source = None
        if isinstance(item, dict):
            ident = item.get("id") if isinstance(item.get("id"), str) else None
            source = item.get("source") if isinstance(item.get("source"), str) else None
        return Refused(index, ident, source, exc.rejection)


def _not_json(index: int, message: str, **details: Any) -> Refused:
    return Refused(index, None, None, Rejection(Reason.NOT_JSON, message, details))


def parse_submission(raw: bytes | str) -> list[Envelope | Refused]:
    """Parse a submission: one CloudEvent, a JSON array of them, or JSON lines.

    Returns one result per submitted item, in input order. If the whole input
    is JSON, an object is one item and an array's elements are the items (a
    non-object element is refused with ``NOT_AN_OBJECT``). Otherwise the input
    is read as JSON lines: each non-empty line is an item, and a line that is
    not JSON is refused with ``NOT_JSON`` naming its line number (also for
    invalid UTF-8). An input that starts with ``[`` but is not valid JSON is one
    ``NOT_JSON`` refusal (it cannot be JSON lines). Empty or blank input gives
    an empty list. A leading UTF-8 byte-order mark is ignored.
    """
    text: bytes | str = (
        raw.removeprefix(_BOM) if isinstance(raw, str) else bytes(raw).removeprefix(_BOM_BYTES)
    )
    if not text.strip():
        return []
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if text.lstrip()[:1] in ("[", b"["):
            return [
                _not_json(
                    0,
                    "the input starts with '[' but is not a valid JSON array "
                    f"({exc.msg} at line {exc.lineno}, column {exc.colno})",
                    line=exc.lineno,
                )
            ]
        return _parse_lines(text)
    items = document if isinstance(document, list) else [document]
    return [_attempt(index, item) for index, item in enumerate(items)]


def _parse_lines(raw: bytes | str) -> list[Envelope | Refused]:
    """JSON lines: each non-empty line one item (lines split on LF only)."""
    lines: Sequence[bytes | str] = raw.split("\n") if isinstance(raw, str) else raw.split(b"\n")
    results: list[Envelope | Refused] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        index = len(results)
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            results.append(
                _not_json(
                    index,
                    f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})",
                    line=number,
                )
            )
            continue
        results.append(_attempt(index, item))
    return results


def to_cloudevent(env: Envelope) -> dict[str, Any]:
    """The envelope as a CloudEvents 1.0 structured-JSON object.

    Carries specversion, id, source, type, subject, the normalised time,
    datacontenttype ``application/json`` and data (the same object). Extension
    attributes of the submission are not kept.
    """
    return {
        "specversion": "1.0",
        "id": env.id,
        "source": env.source,
        "type": env.type,
        "subject": env.subject,
        "time": env.time,
        "datacontenttype": "application/json",
        "data": env.data,
    }
