"""Keyset paging (api.paging) and subject tokens bound to one code (api.tokens)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.paging import MAX_LIMIT, page_of
from api.problems import ProblemError
from api.tokens import Role, TokenError, TokenStore

CODE = "91440300708461136T"


@given(st.sets(st.integers(0, 10_000), max_size=300), st.integers(1, 50))
def test_walking_the_pages_returns_each_item_once_in_order(items: set[int], limit: int) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        page = page_of(list(items), lambda i: (i,), scope="t", limit=limit, cursor=cursor)
        assert page.total == len(items) and len(page.items) <= limit
        seen += page.items
        if page.next is None:
            break
        cursor = page.next
    assert seen == sorted(items)


def test_an_item_added_between_pages_neither_repeats_nor_hides_another() -> None:
    first = page_of([1, 3, 5, 7], lambda i: (i,), scope="t", limit=2, cursor=None)
    rest = page_of([0, 1, 2, 3, 5, 7], lambda i: (i,), scope="t", limit=2, cursor=first.next)
    assert first.items == [1, 3] and rest.items == [5, 7]


@pytest.mark.parametrize(
    ("limit", "cursor", "code"),
    [(0, None, "limit-out-of-range"), (MAX_LIMIT + 1, None, "limit-out-of-range"),
     (10, "%%%", "invalid-cursor")],
)
def test_refusals(limit: int, cursor: str | None, code: str) -> None:
    with pytest.raises(ProblemError) as caught:
        page_of([1, 2], lambda i: (i,), scope="t", limit=limit, cursor=cursor)
    assert caught.value.status == 400 and caught.value.code == code


def test_a_cursor_serves_its_own_scope_only() -> None:
    first = page_of([1, 2, 3], lambda i: (i,), scope="a", limit=1, cursor=None)
    with pytest.raises(ProblemError) as caught:
        page_of([1, 2, 3], lambda i: (i,), scope="b", limit=1, cursor=first.next)
    assert caught.value.code == "invalid-cursor"


def test_a_subject_token_is_bound_to_a_valid_code(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, entry = store.add("subject", subject=CODE.lower())
    principal = store.verify(token)
    assert principal is not None and principal.role is Role.SUBJECT
    assert principal.subject == CODE == entry.subject and principal.agency is None
    with pytest.raises(TokenError):
        store.add("subject")
    with pytest.raises(TokenError):
        store.add("subject", subject="91440300708461136A")
    with pytest.raises(TokenError):
        store.add("auditor", subject=CODE)
    # files written before subject tokens existed still load
    (tmp_path / "old.json").write_text(
        '{"version": 1, "tokens": [{"id": "abc", "sha256": "00", "role": "auditor", '
        '"agency": null, "name": "a", "created": "2026-01-01T00:00:00Z"}]}'
    )
    assert TokenStore(tmp_path / "old.json").entries()[0].subject is None
