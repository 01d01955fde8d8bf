"""An agency's sector and region, and which region lies within which.

DOMAIN.md "Who may record what": a ``source`` is an agency ``KIND/REGION``, a
credit platform ``credit-platform/REGION``, the subject itself ``subject/USCC`` or
the ledger's system source. Readers that need "an agency's sector and region"
(the warnings an agency sees, statistics by sector and region) ask these
functions only; they answer from the agency and region registry they are given
(``RuleServices.agencies``, loaded at start-up): known kinds only, and the
configured region hierarchy (national ``000000`` over provinces over prefectures
over counties, with its listed exceptions).
"""

from __future__ import annotations

from commands.agencies import Agencies

__all__ = ["region_contains", "sector_and_region"]


def sector_and_region(agencies: Agencies, source: str) -> tuple[str, str] | None:
    """(kind, region) of an agency or platform source (``samr/440300`` →
    ``("samr", "440300")``); None for the subject itself, the system source or a
    source the registry does not know."""
    party = agencies.party(source)
    if party.role not in ("agency", "platform") or party.kind is None or party.region is None:
        return None
    return party.kind, party.region


def region_contains(agencies: Agencies, upper: str, region: str) -> bool:
    """Whether ``region`` lies within ``upper`` (itself included)."""
    return agencies.contains(upper, region)
