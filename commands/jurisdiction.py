"""An agency's sector and region, and which region lies within which.

DOMAIN.md "Who may record what": a ``source`` is an agency ``KIND/REGION``, a
credit platform ``credit-platform/REGION``, the subject itself ``subject/USCC`` or
the ledger's system source. Readers that need "an agency's sector and region"
(the warnings an agency sees, statistics by sector and region) ask these two
functions only, so the agency and region registry (configuration) can take their
place without touching the readers.

Until then the region hierarchy is GB/T 2260's: ``000000`` (national) contains
every region, ``PP0000`` (a province) every code starting ``PP``, ``PPCC00`` (a
prefecture) every code starting ``PPCC``; a county contains itself.
"""

from __future__ import annotations

__all__ = ["PLATFORM_KIND", "region_contains", "sector_and_region"]

PLATFORM_KIND = "credit-platform"
"""The kind of the credit platforms (信用平台): cross-sector by nature."""


def sector_and_region(source: str) -> tuple[str, str] | None:
    """(kind, region) of an agency or platform source (``samr/440300`` →
    ``("samr", "440300")``); None for the subject itself, the system source or
    anything not of the form ``KIND/REGION`` with a six-digit region."""
    kind, sep, region = source.partition("/")
    if not sep or not kind or kind == "subject" or len(region) != 6 or not region.isdigit():
        return None
    return kind, region


def region_contains(upper: str, region: str) -> bool:
    """Whether ``region`` lies within ``upper`` (itself included): module docstring."""
    if upper == region or upper == "000000":
        return True
    if upper.endswith("0000"):
        return region.startswith(upper[:2])
    if upper.endswith("00"):
        return region.startswith(upper[:4])
    return False
