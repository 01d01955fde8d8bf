"""The project's own design documents ship in docs/ and stay current: DESIGN.md,
DOMAIN.md and AUDIT-FORMAT.md are copies of the ones in ``../shared`` (the steering
copy, beside the clone on development machines and CI). When ``../shared`` is there and
a copy differs, the test fails and says how to refresh it (``make docs``)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DOCUMENTS = ("DESIGN.md", "DOMAIN.md", "AUDIT-FORMAT.md")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_document_is_in_docs(name: str) -> None:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert text.startswith("#") and len(text) > 1000


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_copy_in_docs_is_current(name: str) -> None:
    source = SHARED / name
    if not source.is_file():
        pytest.skip(f"{source} is not beside this clone: nothing to compare with")
    assert (ROOT / "docs" / name).read_bytes() == source.read_bytes(), (
        f"docs/{name} differs from {source}: run `make docs` and commit it"
    )
