"""The ``authority: unverified`` flag on disclosure items for the roles that see
everything (DOMAIN.md Clarifications: events recorded before the authority rules
that they would refuse stay recorded, keep their effect, and are flagged).

The public never sees the flag (what the public sees is another question); an
agency, auditor or handler sees, on each disclosure item whose record the rules
would refuse now, ``authority: "unverified"`` and ``authority_reason`` (``code``,
``message`` naming the responsible agency). The history carries the same flag
(:mod:`projections.history`).
"""

from __future__ import annotations

from typing import Any

from commands.authority import unverified
from ledger.app import Ledger

__all__ = ["flag_disclosure"]


def flag_disclosure(body: Any, ledger: Ledger, code: str, known_at_us: int | None) -> Any:
    """``body`` (a disclosure answer with ``items``) with the unverified items flagged."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return body
    agencies = ledger.rule_services().agencies
    flagged = unverified(code, ledger.stream(code, known_at_us=known_at_us), agencies)
    if not flagged:
        return body
    items = []
    for item in body["items"]:
        refusal = flagged.get(str(item.get("event_id"))) if isinstance(item, dict) else None
        if refusal is not None:
            item = {
                **item,
                "authority": "unverified",
                "authority_reason": {"code": str(refusal.code), "message": refusal.message},
            }
        items.append(item)
    return {**body, "items": items}
