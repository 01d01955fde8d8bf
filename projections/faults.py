"""Fault containment of the projection runner: a subject whose fold raises.

A subject whose fold raises (at loading, folding, the standing, the disclosure plans or
the calendar refresh) does not stop the views. The fold turns the exception into a
:class:`~ledger.store.views.FoldFailure` with :func:`fold_failure`, which also logs one
ERROR line naming the subject and the event id (JSON fields ``subject``, ``event_id``);
the runner records it in ``view_failed_subjects`` in the batch's own transaction and
skips the subject until it is rebuilt (``projections.runner``).

The log line keeps the logger name ``projections.runner`` it had before the runner was
split into modules, so filters and alerts on it keep matching.
"""

from __future__ import annotations

import logging
import time

from events.recorded import RecordedEvent
from ledger.store.views import FoldFailure

__all__ = ["FoldError", "SubjectFoldFailed", "fold_failure"]

log = logging.getLogger("projections.runner")


class SubjectFoldFailed(Exception):
    """Folding a subject's views raised; ``failure`` says at which record and why."""

    def __init__(self, failure: FoldFailure) -> None:
        super().__init__(
            f"the views of {failure.subject} still fail at record {failure.event_id} "
            f"(ledger position {failure.notification_id - 1}): {failure.error}"
        )
        self.failure = failure


class FoldError(Exception):
    """A subject's fold raised at ``event`` (the cause is the original exception)."""

    def __init__(self, event: RecordedEvent) -> None:
        super().__init__(f"fold failed at record {event.id}")
        self.event = event


def fold_failure(subject: str, event: RecordedEvent, exc: BaseException) -> FoldFailure:
    """Report a subject whose fold raised at ``event`` (an ERROR log line with the
    subject and the event id) and describe it for ``view_failed_subjects``."""
    error = f"{type(exc).__name__}: {exc}"
    log.error(
        "projection of %s failed at record %s (ledger position %d): %s; its views are "
        "marked failed and skipped until `ledger rebuild --subject %s`",
        subject,
        event.id,
        event.position,
        error,
        subject,
        exc_info=exc,
        extra={"subject": subject, "event_id": event.id},
    )
    return FoldFailure(subject, event.id, event.position + 1, error, time.time_ns() // 1000)
