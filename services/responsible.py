"""``ledger persons CODE``: a subject's responsible persons (责任人) and which of
its sanctions extend to them, for auditors (seed 000 §十二; the measures list
says which measures extend).

The read is :func:`commands.workflows.persons.subject_persons` over the
subject's decision state; the API's auditor endpoint
``GET /v1/subjects/{code}/persons`` returns the same JSON (:func:`persons_of`).
Identity numbers are never shown: a person is named by their key id and name.
Exit status: 0, 1 for a subject with no records, 2 for a bad code or instant.
"""

from __future__ import annotations

from typing import Any

from commands.workflows.persons import subject_persons
from ledger.app import Ledger
from ledger.scans import states

__all__ = ["persons_of"]


def persons_of(ledger: Ledger, code: str, as_of_us: int | None = None) -> dict[str, Any] | None:
    """The persons read of subject ``code`` at ``as_of_us`` (default now), or None
    when the ledger has no record of the subject."""
    (state,) = states(ledger, [code])
    if state.version == 0:
        return None
    measures = ledger.rule_services().measures
    return subject_persons(state, ledger.clock() if as_of_us is None else as_of_us, measures)
