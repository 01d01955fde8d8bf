"""The canonical record of the ledger and its hash (AUDIT-FORMAT.md, "Canonical bytes" and
"Records and the subject chain").

Contract
--------
``canonical(x)`` produces the RFC 8785 (JCS) bytes of a JSON value *within our domain*:

* ``None``, ``bool``, ``str`` and ``int`` with ``|n| <= 2**53 - 1`` (RFC 7493 I-JSON range),
  ``list`` and ``dict`` with ``str`` keys, nested;
* no floats (money is a decimal string), no other types (orjson would happily serialise
  ``datetime``, ``UUID``, dataclasses, ``Enum``... in its own way; we refuse them);
* no strings with lone surrogates (not Unicode, not representable in UTF-8);
* no object key containing a character above U+FFFF (see below);
* at most 254 levels of nested arrays/objects (orjson's recursion limit).

Inside that domain the following three serialisations produce the same bytes, which is what
AUDIT-FORMAT.md promises outside verifiers:

1. RFC 8785 (JCS);
2. ``json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``;
3. ``orjson.dumps(x, option=orjson.OPT_SORT_KEYS)`` (what we use, with
   ``OPT_STRICT_INTEGER``: it is fast).

Anything outside the domain raises :class:`CanonicalError` (a ``ValueError``) instead of
silently producing bytes that one of the three would disagree with.

Where the three differ outside the domain (why the domain is what it is)
------------------------------------------------------------------------
* **Key order with astral-plane characters.** JCS (RFC 8785 §3.2.3) sorts object keys by
  their UTF-16 code units; Python's ``sort_keys`` and orjson sort by code points (orjson:
  UTF-8 bytes, which is the same order). The two orders differ exactly when two sibling keys,
  at their first differing position, have one character in U+10000..U+10FFFF (UTF-16
  surrogates 0xD800..0xDFFF) and the other in U+E000..U+FFFF: code-point order puts the
  astral character last, UTF-16 order puts it first. Example: keys ``"\\uff61"`` (｡) and
  ``"\\U0001f600"`` (😀): Python/orjson emit ｡ first, JCS emits 😀 first. We reject *any*
  key containing a character above U+FFFF — a rule every verifier can check per key,
  without looking at siblings. Astral characters in string *values* are fine (all three emit
  them as raw UTF-8).
* **Floats.** JCS uses the ECMAScript number-to-string algorithm: ``1e16`` is
  ``10000000000000000`` in JCS but ``1e+16`` in Python and orjson; ``1e-7`` is ``1e-07`` in
  Python but ``1e-7`` in orjson and JCS; NaN is ``NaN`` in Python, ``null`` in orjson and an
  error in JCS. Rejected.
* **Large integers.** JCS reads numbers as IEEE doubles: 2**53 + 1 becomes
  ``9007199254740992``; Python and orjson print it exactly. Rejected outside
  ±(2**53 − 1). (orjson's ``OPT_STRICT_INTEGER`` enforces exactly that bound.)
* **Lone surrogates.** Python produces a ``str`` that cannot be encoded; orjson raises.
  Rejected.

Strings are escaped identically by all three in the domain: ``\\"``, ``\\\\``, ``\\b \\f \\n
\\r \\t``, other controls below U+0020 as ``\\u00xx`` with lowercase hex, everything else
(including U+007F, U+2028, U+2029, non-ASCII, CJK, emoji) as raw UTF-8 — checked by the
hypothesis tests in ``tests/unit/ledger/test_chain.py``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final, cast

import orjson

__all__ = [
    "FORMAT",
    "GENESIS",
    "MAX_SAFE_INT",
    "RECORD_KEYS",
    "CanonicalError",
    "canonical",
    "record_bytes",
    "record_dict",
    "record_hash",
    "record_hash_bytes",
]

#: ``prev`` of a subject's first record (``seq`` 1): 64 zeros.
GENESIS: Final[str] = "0" * 64
#: Value of every record's ``format`` key.
FORMAT: Final[int] = 1
#: Largest integer magnitude allowed anywhere in canonical values (RFC 7493 I-JSON).
MAX_SAFE_INT: Final[int] = 2**53 - 1
#: The keys of a record, in the order of the AUDIT-FORMAT.md table.
RECORD_KEYS: Final[tuple[str, ...]] = (
    "format",
    "subject",
    "seq",
    "position",
    "id",
    "source",
    "type",
    "time",
    "recorded_us",
    "data",
    "prev",
)

_OPTIONS: Final[int] = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_dumps = orjson.dumps
_sha256 = hashlib.sha256
_ASTRAL: Final[re.Pattern[str]] = re.compile("[\U00010000-\U0010ffff]")
_builtin_type = type
_NoneType = type(None)


class CanonicalError(ValueError):
    """The value is outside the canonical domain (see the module docstring)."""


def _ok(value: object) -> bool:
    """Fast domain check (no messages): True iff ``value`` passes :func:`_check`.

    Scalars inside containers are tested inline to save a call per item; this runs once per
    appended record, so it is kept lean.
    """
    t = _builtin_type(value)
    if t is str or t is bool or t is _NoneType:
        return True
    if t is int:
        return -MAX_SAFE_INT <= cast(int, value) <= MAX_SAFE_INT
    if t is dict:
        for k, v in cast("dict[object, object]", value).items():
            if _builtin_type(k) is not str or (not k.isascii() and _ASTRAL.search(k)):
                return False
            tv = _builtin_type(v)
            if tv is str or tv is bool or tv is _NoneType:
                continue
            if tv is int:
                if -MAX_SAFE_INT <= cast(int, v) <= MAX_SAFE_INT:
                    continue
                return False
            if not _ok(v):
                return False
        return True
    if t is list:
        for v in cast("list[object]", value):
            tv = _builtin_type(v)
            if tv is str or tv is bool or tv is _NoneType:
                continue
            if tv is int:
                if -MAX_SAFE_INT <= cast(int, v) <= MAX_SAFE_INT:
                    continue
                return False
            if not _ok(v):
                return False
        return True
    return False


def _check(value: object, path: str) -> None:
    """Raise :class:`CanonicalError` saying where ``value`` leaves the canonical domain.

    Lone surrogates and nesting deeper than orjson's limit (254 levels) are left to orjson,
    which rejects them while serialising.
    """
    t = _builtin_type(value)
    if t is str or t is bool or value is None:
        return
    if t is int:
        if -MAX_SAFE_INT <= cast(int, value) <= MAX_SAFE_INT:
            return
        raise CanonicalError(f"{path}: integer {value} outside ±(2**53 - 1)")
    if t is dict:
        for k, v in cast("dict[object, object]", value).items():
            if _builtin_type(k) is not str:
                raise CanonicalError(f"{path}: object key {k!r} is not a str")
            if not k.isascii() and _ASTRAL.search(k):
                raise CanonicalError(
                    f"{path}: object key {k!r} contains a character above U+FFFF "
                    "(JCS and code-point key order may differ)"
                )
            _check(v, f"{path}.{k}")
        return
    if t is list:
        for i, v in enumerate(cast("list[object]", value)):
            _check(v, f"{path}[{i}]")
        return
    if t is float:
        raise CanonicalError(f"{path}: floating-point number {value!r} (use a decimal string)")
    raise CanonicalError(f"{path}: {t.__name__} is not a JSON value")


def canonical_trusted(value: object) -> bytes:
    """The canonical bytes of ``value`` without the domain check, for the append
    path: the caller guarantees ``value`` passed ``events.scan.check_json_values``
    (which enforces the same domain at the door)."""
    return _dumps(value, option=_OPTIONS)


def canonical(value: object) -> bytes:
    """Return the canonical (RFC 8785) UTF-8 bytes of ``value``.

    ``value`` must be in the canonical domain (module docstring): ``None``, ``bool``, ``str``,
    ``int`` within ±(2**53 − 1), and ``list``/``dict`` (``str`` keys without characters above
    U+FFFF) of those, exact types (no subclasses such as ``IntEnum``). Within it the result
    equals ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode()``.

    Raises:
        CanonicalError: (a ``ValueError``) for anything outside the domain, including lone
            surrogates in strings.
    """
    try:
        if not _ok(value):
            _check(value, "$")  # raises, with the path of the offending item
            raise CanonicalError("outside the canonical domain")  # pragma: no cover
        return _dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:  # lone surrogate, nesting deeper than 254
        raise CanonicalError(str(exc)) from exc
    except RecursionError as exc:
        raise CanonicalError("nesting too deep") from exc


_Fragment: Any = getattr(orjson, "Fragment", None)  # orjson >= 3.10
_STRICT: Final[int] = orjson.OPT_STRICT_INTEGER
_INT_FIELDS: Final[tuple[str, ...]] = ("seq", "position", "recorded_us")
_STR_FIELDS: Final[tuple[str, ...]] = ("subject", "id", "source", "type", "time", "prev")


def _field_error(fields: dict[str, object]) -> CanonicalError:
    """Slow path of :func:`record_bytes`: say which field is wrong."""
    for name in _INT_FIELDS:
        v = fields[name]
        if _builtin_type(v) is not int or not -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
            return CanonicalError(
                f"record field {name!r} must be an int within ±(2**53 - 1), got {v!r}"
            )
    for name in _STR_FIELDS:
        v = fields[name]
        if _builtin_type(v) is not str:
            return CanonicalError(f"record field {name!r} must be a str, got {v!r}")
        try:
            _dumps(v)
        except orjson.JSONEncodeError as exc:
            return CanonicalError(f"record field {name!r}: {exc}")
    return CanonicalError("record fields outside the canonical domain")  # pragma: no cover


def record_bytes(
    *,
    subject: str,
    seq: int,
    position: int,
    id: str,
    source: str,
    type: str,
    time: str,
    recorded_us: int,
    data_canonical: bytes,
    prev: str,
) -> bytes:
    """Return ``canonical(record)`` of the record built from the arguments, fast.

    The record is ``{"format": 1, "subject": subject, "seq": seq, "position": position,
    "id": id, "source": source, "type": type, "time": time, "recorded_us": recorded_us,
    "data": <data>, "prev": prev}``; the bytes are assembled directly in sorted key order
    (data, format, id, position, prev, recorded_us, seq, source, subject, time, type) with
    ``data_canonical`` spliced in as an ``orjson.Fragment`` (or by bytes formatting on orjson
    < 3.10).

    ``data_canonical`` must be ``canonical(data)`` — it is inserted verbatim, *not*
    re-validated (this is the per-record hot path; the bytes normally come from storage where
    they were written by :func:`canonical`). Equals ``canonical(record_dict(..., data=data))``.

    Raises:
        CanonicalError: if a string field is not a ``str`` (or has a lone surrogate) or an
            integer field is not an ``int`` (``bool`` excluded) within ±(2**53 − 1).
    """
    t = _builtin_type
    if not (
        t(seq) is int
        and t(position) is int
        and t(recorded_us) is int
        and t(subject) is str
        and t(id) is str
        and t(source) is str
        and t(type) is str
        and t(time) is str
        and t(prev) is str
    ):
        raise _field_error(locals())
    try:
        if _Fragment is not None:
            # key order as written is already sorted; OPT_STRICT_INTEGER enforces ±(2**53-1)
            return _dumps(
                {
                    "data": _Fragment(data_canonical),
                    "format": 1,
                    "id": id,
                    "position": position,
                    "prev": prev,
                    "recorded_us": recorded_us,
                    "seq": seq,
                    "source": source,
                    "subject": subject,
                    "time": time,
                    "type": type,
                },
                option=_STRICT,
            )
        if not (
            -MAX_SAFE_INT <= seq <= MAX_SAFE_INT
            and -MAX_SAFE_INT <= position <= MAX_SAFE_INT
            and -MAX_SAFE_INT <= recorded_us <= MAX_SAFE_INT
        ):
            raise _field_error(locals())
        return (  # orjson < 3.10
            b'{"data":%b,"format":1,"id":%b,"position":%d,"prev":%b,"recorded_us":%d,"seq":%d,'
            b'"source":%b,"subject":%b,"time":%b,"type":%b}'
            % (
                data_canonical,
                _dumps(id),
                position,
                _dumps(prev),
                recorded_us,
                seq,
                _dumps(source),
                _dumps(subject),
                _dumps(time),
                _dumps(type),
            )
        )
    except orjson.JSONEncodeError:  # integer out of range, lone surrogate
        raise _field_error(locals()) from None


def record_dict(
    *,
    subject: str,
    seq: int,
    position: int,
    id: str,
    source: str,
    type: str,
    time: str,
    recorded_us: int,
    data: dict[str, Any],
    prev: str,
) -> dict[str, Any]:
    """Return the record as a dict with exactly :data:`RECORD_KEYS`, in that order.

    This is the object an audit bundle carries under ``"record"``;
    ``canonical(record_dict(...)) == record_bytes(..., data_canonical=canonical(data))``.
    No validation beyond what :func:`canonical` does when the dict is serialised.
    """
    return {
        "format": FORMAT,
        "subject": subject,
        "seq": seq,
        "position": position,
        "id": id,
        "source": source,
        "type": type,
        "time": time,
        "recorded_us": recorded_us,
        "data": data,
        "prev": prev,
    }


def record_hash(record_bytes: bytes) -> str:
    """Return the record's ``hash``: lowercase hex SHA-256 of its canonical bytes."""
    return _sha256(record_bytes).hexdigest()


def record_hash_bytes(record_bytes: bytes) -> bytes:
    """Return the raw 32-byte SHA-256 of the record's canonical bytes.

    This is ``bytes.fromhex(record_hash(b))``, i.e. the ``d`` whose leaf hash
    ``H(0x00 ‖ d)`` enters the ledger tree.
    """
    return _sha256(record_bytes).digest()
