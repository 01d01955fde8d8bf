"""An agency's sector and region, and which region lies within which.

DOMAIN.md "Who may record what": a ``source`` is an agency ``KIND/REGION``, a
credit platform ``credit-platform/REGION``, the subject itself ``subject/USCC`` or
the ledger's system source. Readers that need "an agency's sector and region"
(the warnings an agency sees, statistics by sector and region) ask these
functions only; they answer from the agency and region registry
(``commands.agencies``, the shipped configuration): known kinds only, and the
configured region hierarchy (national ``000000`` over provinces over prefectures
over counties, with its listed exceptions).
"""

from __future__ import annotations

from commands.agencies import Agencies

__all__ = ["platform_kind", "region_contains", "sector_and_region"]


def platform_kind() -> str:
    """The kind of the credit platforms (信用平台): cross-sector by nature."""
    return Agencies.packaged().platform_kind


def sector_and_region(source: str) -> tuple[str, str] | None:
    """(kind, region) of an agency or platform source (``samr/440300`` →
    ``("samr", "440300")``); None for the subject itself, the system source or a
    source the registry does not know."""
    party = Agencies.packaged().party(source)
    if party.role not in ("agency", "platform") or party.kind is None or party.region is None:
        return None
    return party.kind, party.region


def region_contains(upper: str, region: str) -> bool:
    """Whether ``region`` lies within ``upper`` (itself included)."""
    return Agencies.packaged().contains(upper, region)
