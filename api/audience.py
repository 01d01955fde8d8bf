"""Which :class:`~projections.public.Audience` a principal reads as.

DOMAIN.md "What the public sees": auditors and objection handlers see every
record (marked with why and when publication ended); an agency sees everything
of the records it is the responsible agency of, and the rest as the public does;
a subject (when the API has that role) sees all of its own records; the
anonymous public sees only what is published now.
"""

from __future__ import annotations

from api.tokens import Principal, Role
from projections.public import EVERYTHING, PUBLIC, Audience

__all__ = ["audience_of"]


def audience_of(principal: Principal) -> Audience:
    """The audience ``principal`` reads disclosure and lists as."""
    if principal.role in (Role.AUDITOR, Role.HANDLER):
        return EVERYTHING
    if principal.role is Role.AGENCY and principal.agency:
        return Audience(agency=principal.agency)
    subject = getattr(principal, "subject", None)
    if principal.role.value == "subject" and isinstance(subject, str) and subject:
        return Audience(subject=subject)
    return PUBLIC
