"""Turn a pydantic ``ValidationError`` into one clean, one-line rejection.

Contract: missing required fields win (``MISSING_FIELD``, naming all of them);
otherwise the first error becomes ``INVALID_FIELD`` (``DATE_OUT_OF_RANGE`` for a
date outside the accepted range), phrased as "data.<path>
must be <what is expected>, got <what came>". No pydantic URLs or internals.
``details["fields"]`` lists the failing top-level fields; ``details["path"]`` the
JSON path of the reported one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from events.dates import date_range
from events.fields import DATE_OUT_OF_RANGE_ERROR, PATTERN_EXPECTATIONS
from events.reasons import InvalidEvent, Reason
from events.scan import json_path

__all__ = ["rejection_from_validation_error"]


def _json_type(value: Any) -> str:
    """The JSON name of a Python value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _got(value: Any) -> str:
    """A short description of the received value."""
    if isinstance(value, str) and len(value) <= 40:
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"the number {value}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, list | dict):
        if not value:
            return "an empty " + ("array" if isinstance(value, list) else "object")
        try:
            text = orjson.dumps(value).decode()
        except TypeError:
            text = ""
        if 0 < len(text) <= 60:
            return text
    return _json_type(value)


def _expected(error: ErrorDetails, hint: str | None) -> str:
    """What the field should have held, in words (``hint``: the field's own phrase)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_type":
        return hint or "a string"
    if kind == "string_too_short":
        return "a non-empty string"
    if kind == "string_too_long":
        return f"a string of at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERN_EXPECTATIONS.get(pattern, f"a string matching {pattern}")
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "list_type":
        return "an array"
    if kind == "dict_type":
        return "an object"
    if kind == "too_short":
        return "a non-empty " + ("object" if ctx.get("field_type") == "Dictionary" else "array")
    # Our own PydanticCustomError messages are phrased as the expectation.
    return str(error["msg"])


def rejection_from_validation_error(
    type_name: str,
    exc: ValidationError,
    nullable: Collection[str] = (),
    hints: Mapping[str, str] | None = None,
) -> InvalidEvent:
    """Build the :class:`InvalidEvent` for a failed model validation.

    ``nullable`` names the top-level fields that also accept null, so the
    message can say so; ``hints`` gives, per top-level field, what a string
    field expects (e.g. a date) when a non-string was sent.
    """
    errors = exc.errors(include_url=False)
    fields = list(dict.fromkeys(str(e["loc"][0]) for e in errors if e["loc"]))
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and e["loc"]]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        plural = "s" if len(missing) > 1 else ""
        return InvalidEvent(
            Reason.MISSING_FIELD,
            f"{type_name}: data is missing required field{plural} {names}",
            fields=missing,
        )
    error = errors[0]
    loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
    where = json_path(loc)
    if error["type"] == DATE_OUT_OF_RANGE_ERROR:
        refused = date_range().refusal(f"{type_name}: {where}", str(error["input"]), period=True)
        refused.rejection.details.update(fields=fields, path=where)
        return refused
    hint = (hints or {}).get(str(loc[0])) if len(loc) == 1 else None
    expected = _expected(error, hint)
    if len(loc) == 1 and loc[0] in nullable:
        expected += " or null"
    return InvalidEvent(
        Reason.INVALID_FIELD,
        f"{type_name}: {where} must be {expected}, got {_got(error['input'])}",
        fields=fields,
        path=where,
    )
