"""Cursor paging of every list-shaped answer (``limit``, ``cursor`` → ``next``, ``total``).

Contract (DESIGN.md "Additions of the second wave"):

* the items of an answer are in one total order (a sort key per item, unique
  within the answer); a page is the first ``limit`` items whose key comes after
  the cursor's — keyset paging, not offsets, so an item recorded or ended between
  two requests never makes another one appear twice or be skipped;
* ``next`` is the cursor of the following page (null on the last one) and
  ``total`` the number of items of the whole answer at the moment it was read;
* a cursor is opaque (URL-safe base64 of the key and the query it belongs to):
  handed back unchanged with the same other parameters it continues the walk; a
  cursor of another endpoint or query, or one that does not decode, is a 400
  ``invalid-cursor``; a ``limit`` outside ``1 … MAX_LIMIT`` a 400
  ``limit-out-of-range``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query

from api.problems import ProblemError
from events.reasons import Reason

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Cursor",
    "Limit",
    "Page",
    "page_of",
]

DEFAULT_LIMIT = 100
"""Items per page when ``limit`` is not given (history: :data:`MAX_LIMIT`)."""
MAX_LIMIT = 1000
"""The largest page."""

T = TypeVar("T")
Key = tuple[Any, ...]

Limit = Annotated[
    int | None,
    Query(
        description=f"Items per page, 1 … {MAX_LIMIT} (default {DEFAULT_LIMIT}; history "
        f"{MAX_LIMIT}); outside that a 400 limit-out-of-range",
        examples=[50],
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        description="`next` of the previous page, unchanged (with the same other "
        "parameters); absent for the first page. Anything else is a 400 invalid-cursor",
        max_length=2048,
    ),
]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page: its items, the cursor of the next page (None on the last) and the
    number of items of the whole answer."""

    items: list[T]
    next: str | None
    total: int
    limit: int

    def fields(self) -> dict[str, Any]:
        """The paging members of a response body (``next``, ``total``, ``limit``)."""
        return {"next": self.next, "total": self.total, "limit": self.limit}


def _encode(scope: str, key: Key) -> str:
    raw = orjson.dumps({"s": scope, "k": list(key)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid(why: str) -> ProblemError:
    return ProblemError(
        400,
        Reason.INVALID_CURSOR,
        f"cursor: {why}; pass the `next` of the previous page unchanged, with the "
        "same other parameters",
        invalid=[{"name": "cursor", "reason": why}],
    )


def _decode(scope: str, cursor: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as e:
        raise _invalid("not a cursor this server handed out") from e
    if not isinstance(body, dict) or not isinstance(body.get("k"), list):
        raise _invalid("not a cursor this server handed out")
    if body.get("s") != scope:
        raise _invalid("it belongs to another endpoint or query")
    return tuple(body["k"])


def checked_limit(limit: int | None, default: int = DEFAULT_LIMIT) -> int:
    """``limit`` (``default`` when None), or a 400 ``limit-out-of-range``."""
    if limit is None:
        return default
    if not 1 <= limit <= MAX_LIMIT:
        raise ProblemError(
            400,
            Reason.LIMIT_OUT_OF_RANGE,
            f"limit must be between 1 and {MAX_LIMIT}, not {limit}",
            invalid=[{"name": "limit", "reason": f"outside 1 … {MAX_LIMIT}"}],
            maximum=MAX_LIMIT,
        )
    return limit


def page_of(
    items: Sequence[T],
    key: Callable[[T], Key],
    *,
    scope: str,
    limit: int | None,
    cursor: str | None,
    default: int = DEFAULT_LIMIT,
) -> Page[T]:
    """The page of ``items`` (in any order; sorted here by ``key``, which must be
    unique and made of JSON scalars) after ``cursor``. ``scope`` names the endpoint
    and the parameters that define the answer (a cursor is valid for its scope only)."""
    size = checked_limit(limit, default)
    ordered = sorted(items, key=key)
    after = _decode(scope, cursor) if cursor else None
    start = 0
    if after is not None:
        start = next((i for i, item in enumerate(ordered) if _after(key(item), after)), len(ordered))
    chunk = ordered[start : start + size]
    more = start + size < len(ordered)
    return Page(
        items=list(chunk),
        next=_encode(scope, key(chunk[-1])) if more and chunk else None,
        total=len(ordered),
        limit=size,
    )


def _after(key: Key, after: Key) -> bool:
    """Whether ``key`` sorts after the cursor's ``after``; a key of another shape is
    a 400 ``invalid-cursor``."""
    try:
        return key > after
    except TypeError as e:
        raise _invalid("its position does not fit this answer") from e
