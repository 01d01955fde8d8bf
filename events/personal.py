"""Which fields of the vocabulary are personal data, and how a stored one looks.

The ledger never stores a personal field in clear: ``ledger.sealing`` replaces
it, before anything is decided or appended, with a *sealed* value
``{"enc": <base64 ciphertext>, "key": <person key id>}``. This module is the
part of that contract the pure layers need (``commands`` validates corrections
of records that hold sealed values); it does no cryptography and no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "CORRECTION_CARRIERS",
    "PERSONAL_FIELDS",
    "SEALED_STAND_IN",
    "is_sealed",
    "mask_id_number",
    "unsealed_for_validation",
]

PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"credit.person.linked": ("id_number",)}
)
"""Per event type, the ``data`` fields stored sealed (DOMAIN.md: identity numbers
of responsible persons are personal data)."""

CORRECTION_CARRIERS = frozenset({"credit.record.corrected", "credit.objection.resolved"})
"""Types whose ``data.changes`` carries corrected fields of another record: a
personal field there is sealed exactly as on first submission."""

MASK_KEEP = 2
"""How many leading characters of an identity number the public sees: the
province of issue (GB 11643: positions 1-2 province, 3-6 prefecture and county,
7-14 date of birth, 15-17 sequence, 18 check). Nothing the rules require the
public to see depends on more: the subject's code and the person's name and role
identify the link; the number only tells two namesakes apart, and the province
does that coarsely. The check character is never shown (it confirms a guess
of the rest), nor the county, birth date or sequence, so the masked form leaves
every county of the province, every birth date and every sequence open."""

SEALED_STAND_IN = "sealed"
"""What a sealed value stands for when a record is validated against its model
(the model types the clear value, a non-blank string)."""


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed personal field: ``{"enc": str, "key": str}``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("enc"), str)
        and isinstance(value.get("key"), str)
    )


def unsealed_for_validation(type_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` of ``type_name`` in which each sealed personal field is
    replaced by :data:`SEALED_STAND_IN`, so that the type's model can judge the
    rest (the clear value was validated before it was sealed)."""
    out = dict(data)
    for name in PERSONAL_FIELDS.get(type_name, ()):
        if is_sealed(out.get(name)):
            out[name] = SEALED_STAND_IN
    return out


def mask_id_number(value: object) -> str:
    """An identity number for the public: the first :data:`MASK_KEEP` characters
    kept, every other one ``*`` (``11****************``); shorter than 10
    characters, everything masked. Never more of the number, never its check
    character."""
    text = value.strip() if isinstance(value, str) else ""
    if len(text) >= 10:
        return text[:MASK_KEEP] + "*" * (len(text) - MASK_KEEP)
    return "*" * max(len(text), 1)
