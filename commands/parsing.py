"""How rule data is parsed: pydantic 2 models, strict, unknown keys refused.

Every kind of rule data (disclosure rule sets, procedures, criteria, the measures and
incentives lists, warning rules, working-day calendars, agencies) is described by a model
derived from :class:`Strict` and parsed with :func:`parse`, which turns pydantic's errors
into one ``ValueError`` whose message names where the data came from and each offending
field in the words the rule files' authors know (``missing `en```, ``unknown key …``,
``0 is less than 1``, ``… is not a date written YYYY-MM-DD``).

Nothing here reads a file: the data comes in as already-decoded JSON values (the loader is
``entrypoints.rule_files``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

__all__ = ["Day", "DecimalText", "Strict", "Text", "describe", "parse"]

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A rule-data model: no coercion (``"60"`` is not 60), unknown keys refused, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _day(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a real calendar date (YYYY-MM-DD)") from None


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError(f'{value!r} must be a decimal string such as "0.30"')
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return result


Day = Annotated[date, BeforeValidator(_day)]
"""A day written ``YYYY-MM-DD`` (exactly: ``2026/04/01`` and ``20260401`` are refused)."""

Text = Annotated[str, Field(min_length=1)]
"""A non-empty string."""

DecimalText = Annotated[Decimal, BeforeValidator(_decimal)]
"""An exact decimal written as a JSON string (``"0.30"``), never a float."""


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    key = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "missing":
        return f"missing `{key}`"
    if kind == "extra_forbidden":
        return f"unknown key {key}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"{value!r} is less than {bound}"
    if kind in ("less_than_equal", "less_than"):
        return f"{value!r} is more than {ctx.get('le', ctx.get('lt'))}"
    if kind == "int_type":
        return f"{value!r} is not an integer"
    if kind == "bool_type":
        return f"{value!r} is not true or false"
    if kind in ("list_type", "tuple_type"):
        return f"{value!r} must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "expected a JSON object"
    if kind == "string_too_short":
        return f"{value!r} is not a non-empty string"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _plain(value: Any) -> Any:
    if isinstance(value, (date, Decimal)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def describe(exc: ValidationError) -> str:
    """Every error of ``exc`` as ``field.path: what is wrong``, joined by ``; ``."""
    parts = []
    for error in exc.errors():
        loc = error["loc"]
        if error["type"] in ("missing", "extra_forbidden"):
            loc = loc[:-1]  # the message names the key itself
        where = ".".join(str(p) for p in loc)
        message = _message(error)
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse(model: type[M], data: Any, where: str) -> M:
    """``data`` (decoded JSON) validated as ``model``; ``ValueError("{where}: …")`` naming
    every defect. Validated in pydantic's JSON mode, where strict still reads a JSON array
    as a tuple and nothing else (no ``"60"`` for 60, no 1 for true)."""
    try:
        raw = orjson.dumps(data, default=_plain)
    except TypeError as exc:
        raise ValueError(f"{where}: not JSON data ({exc})") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ValueError(f"{where}: {describe(exc)}") from None
