"""The JSON-value walk run on `data` before the model sees it.

It enforces what a schema cannot say well and what canonical JSON needs: no
floating-point numbers anywhere (money is a decimal string), integers within
I-JSON's exact range ±(2**53 − 1), object keys that are strings, and only JSON
values (dict, list, str, int, bool, None). Pure and allocation-free on the
happy path.

It also keeps text clean for every reader of the record (terminals, CSV, XML,
PostgreSQL, which cannot store NUL in text): no string or key in ``data`` holds a
control character other than tab, line feed and carriage return (free text such as
a finding's description may have line breaks; nothing else needs a control
character), and no Unicode noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF and the
last two code points of every plane), which is not for interchange. Refused: C0
(U+0000–U+001F except U+0009, U+000A, U+000D), DEL (U+007F), C1 (U+0080–U+009F).
Since every path (CLI, API, Kafka) validates ``data`` here, all of them refuse these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from events.reasons import InvalidEvent, Reason

__all__ = ["FORBIDDEN_IN_TEXT", "MAX_SAFE_INTEGER", "check_json_values", "json_path"]

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer I-JSON (RFC 7493) guarantees to be exact."""

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
"""Characters above U+FFFF: object keys with them sort differently in RFC 8785
(UTF-16 code units) and in code-point order, so canonical bytes would be ambiguous."""


_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
FORBIDDEN_IN_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_NONCHARACTERS}]")
"""The characters no string or key of ``data`` may hold (module docstring)."""


def _bad_key(key: Any) -> bool:
    if type(key) is not str:
        return True
    if key.isascii() and key.isprintable():  # the usual key: nothing to search for
        return False
    return FORBIDDEN_IN_TEXT.search(key) is not None or (
        not key.isascii() and _ASTRAL.search(key) is not None
    )


def _clean_text(text: str) -> bool:
    """No character of :data:`FORBIDDEN_IN_TEXT` in ``text``. Every forbidden character
    is of Unicode category Cc or Cn, which ``str.isprintable`` rejects, so a printable
    string (checked in C) needs no regular-expression search."""
    return text.isprintable() or FORBIDDEN_IN_TEXT.search(text) is None


def _clean(value: Any) -> bool:
    """True when ``value`` holds only JSON values, no floats, only safe integers."""
    items: Iterable[Any]
    if isinstance(value, dict):
        items = value.values()
        for key in value:
            if _bad_key(key):
                return False
    elif isinstance(value, list):
        items = value
    else:
        return _clean_scalar(value)
    for item in items:
        t = type(item)
        if t is str:
            if item.isprintable() or FORBIDDEN_IN_TEXT.search(item) is None:  # _clean_text
                continue
            return False
        if t is bool or item is None:
            continue
        if t is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            return False
        if t is dict or t is list or isinstance(item, dict | list):
            if _clean(item):
                continue
            return False
        if not _clean_scalar(item):
            return False
    return True


def _clean_scalar(value: Any) -> bool:
    """The slow path for scalars of unusual types (str subclasses are accepted)."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return False


def json_path(path: tuple[str | int, ...], root: str = "data") -> str:
    """Render a location as a JSON path: ``("kinds", 1)`` → ``data.kinds[1]``."""
    out = [root]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def _problems(
    value: Any, path: tuple[str | int, ...], found: dict[str, tuple[tuple[str | int, ...], Any]]
) -> None:
    """Record the first float and the first other problem, depth first, in order."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _bad_key(key):
                found.setdefault("other", ((*path, str(key)), key))
                continue
            _problems(item, (*path, key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _problems(item, (*path, index), found)
    elif isinstance(value, float):
        found.setdefault("float", (path, value))
    elif not _clean_scalar(value):
        found.setdefault("other", (path, value))


def check_json_values(data: Any, type_name: str) -> None:
    """Raise :class:`InvalidEvent` if ``data`` holds a float or a non-JSON value.

    ``FLOAT_NOT_ALLOWED`` (any float, reported first wherever it is), else for the
    first other problem depth first: ``CONTROL_CHARACTER`` (a string or key holding a
    character of :data:`FORBIDDEN_IN_TEXT`; ``details["character"]`` is its code
    point, ``U+0000``) or ``INVALID_FIELD`` (an integer beyond ±(2**53 − 1), a
    non-string key, a key with a character above U+FFFF, or a Python value that is not
    JSON). Data that passes is in ``ledger.chain``'s canonical domain. The message
    names the JSON path, e.g. ``data.amount``; ``details["fields"]`` holds the
    top-level field.
    """
    if _clean(data):
        return
    found: dict[str, tuple[tuple[str | int, ...], Any]] = {}
    _problems(data, (), found)
    if not found:  # pragma: no cover - _clean and _problems agree
        return
    if "float" in found:
        path, value = found["float"]
        where = json_path(path)
        raise InvalidEvent(
            Reason.FLOAT_NOT_ALLOWED,
            f"{type_name}: {where} is a floating-point number ({value!r}); numbers with a "
            'fraction or exponent are not accepted: money is a decimal string like "3000.00"',
            fields=[str(path[0])] if path else [],
            path=where,
        )
    path, value = found["other"]
    where = json_path(path)
    bad = FORBIDDEN_IN_TEXT.search(value) if isinstance(value, str) else None
    if bad is not None:
        character = f"U+{ord(bad.group()):04X}"
        what = "key" if path and value == path[-1] else "string"
        raise InvalidEvent(
            Reason.CONTROL_CHARACTER,
            f"{type_name}: {where}: the {what} holds the character {character} at position "
            f"{bad.start() + 1}; control characters (other than tab, line feed and carriage "
            "return) and Unicode noncharacters are not accepted",
            fields=[str(path[0])] if path else [],
            path=where,
            character=character,
        )
    if isinstance(value, str) and path and value == path[-1]:
        problem = (
            "is an object key with a character above U+FFFF, which canonical JSON "
            "(RFC 8785) cannot order unambiguously"
        )
    elif isinstance(value, int) and not isinstance(value, bool):
        problem = (
            f"is an integer outside ±(2**53 − 1) ({value}); "
            "such numbers are not exact in JSON: send a string"
        )
    else:
        problem = f"is not a JSON value ({type(value).__name__})"
    raise InvalidEvent(
        Reason.INVALID_FIELD,
        f"{type_name}: {where} {problem}",
        fields=[str(path[0])] if path else [],
        path=where,
    )
