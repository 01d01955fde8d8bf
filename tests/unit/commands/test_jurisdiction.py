"""An agency's sector and region from its source, and the region hierarchy the
warnings and statistics filter by (answered by the agency and region registry)."""

from __future__ import annotations

import pytest

from commands.jurisdiction import region_contains, sector_and_region
from entrypoints import rule_files

AGENCIES = rule_files.agencies()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("samr/440300", ("samr", "440300")),
        ("credit-platform/000000", ("credit-platform", "000000")),
        ("subject/91440300708461136T", None),
        ("system", None),
        ("samr/4403", None),
        ("/440300", None),
        ("no-such-kind/440300", None),
    ],
)
def test_sector_and_region(source: str, expected: tuple[str, str] | None) -> None:
    assert sector_and_region(AGENCIES, source) == expected


@pytest.mark.parametrize(
    ("upper", "region", "inside"),
    [
        ("000000", "440300", True),
        ("440000", "440300", True),
        ("440000", "110105", False),
        ("440300", "440300", True),
        ("440300", "440305", True),
        ("440305", "440300", False),
        ("440100", "440106", True),
        ("440106", "440100", False),
    ],
)
def test_region_contains(upper: str, region: str, inside: bool) -> None:
    assert region_contains(AGENCIES, upper, region) is inside
