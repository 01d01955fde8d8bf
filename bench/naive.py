"""The naive alternative: what a team would write with plain ``eventsourcing`` instead.

One :class:`CreditSubject` aggregate per subject, one event method per kind of
event, a plain :class:`eventsourcing.application.Application` on PostgreSQL
(``eventsourcing.postgres``, database functions off), ``save()`` of the batch's
aggregates and ``repository.get()`` for reads. It checks what the ledger checks
for these event types (a fulfilment names an open commitment of the same subject)
but validates no envelope, chains nothing and keeps no audit columns: it is the
baseline the ledger must beat by 3×, so every choice here favours it:

* bulk: the application's aggregate cache (same size as the ledger's subject
  cache) without fast-forward or deep copies: a single writer needs neither;
* single events: the cache with fast-forward and deep copies (the library's
  defaults), which concurrent writers need to stay correct; a version conflict is
  retried after a random back-off, as ``Ledger.submit`` does;
* reads: no cache (each ``get()`` replays the stream, as an as-of read must).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import RecordConflictError

from ledger.store import describe

__all__ = ["CreditSubject", "NaiveLedger", "naive_env"]

NAMESPACE = UUID("3d1d5a36-5b51-4c4e-9a55-0b8f3a9c1e77")


class CreditSubject(Aggregate):
    """A market subject's credit records (the naive model: ids and types only)."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(NAMESPACE, code)

    @event("Registered")
    def __init__(self, code: str) -> None:
        self.code = code
        self.records: dict[str, str] = {}
        self.open_commitments: set[str] = set()

    @event("ViolationRecorded")
    def record_violation(self, event_id: str, source: str, time: str, data: dict[str, Any]) -> None:
        self.records[event_id] = "violation"

    @event("PenaltyDecided")
    def decide_penalty(self, event_id: str, source: str, time: str, data: dict[str, Any]) -> None:
        self.records[event_id] = "penalty"

    @event("CommitmentMade")
    def make_commitment(self, event_id: str, source: str, time: str, data: dict[str, Any]) -> None:
        self.records[event_id] = "commitment"
        self.open_commitments.add(event_id)

    def fulfil_commitment(
        self, event_id: str, source: str, time: str, data: dict[str, Any]
    ) -> None:
        """Raises ValueError unless ``data["commitment"]`` is an open commitment."""
        if data.get("commitment") not in self.open_commitments:
            raise ValueError(f"{data.get('commitment')!r} is not an open commitment")
        self._commitment_fulfilled(event_id, source, time, data)

    @event("CommitmentFulfilled")
    def _commitment_fulfilled(
        self, event_id: str, source: str, time: str, data: dict[str, Any]
    ) -> None:
        self.records[event_id] = "fulfilment"
        self.open_commitments.discard(data["commitment"])

    def apply(self, cloudevent: Mapping[str, Any]) -> None:
        """Apply one CloudEvent of the four bench types (KeyError for another)."""
        method = {
            "credit.violation.recorded": self.record_violation,
            "credit.penalty.decided": self.decide_penalty,
            "credit.commitment.made": self.make_commitment,
            "credit.commitment.fulfilled": self.fulfil_commitment,
        }[cloudevent["type"]]
        method(cloudevent["id"], cloudevent["source"], cloudevent["time"], cloudevent["data"])


def naive_env(
    url: str, schema: str, *, cache: int | None, fastforward: bool, create_table: bool = True
) -> dict[str, str]:
    """The ``eventsourcing`` environment for a PostgreSQL URL and schema."""
    address = describe(url)
    if address.kind != "postgres":
        raise ValueError(f"{url!r} is not a PostgreSQL URL")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": address.dbname,
        "POSTGRES_HOST": address.host,
        "POSTGRES_PORT": str(address.port),
        "POSTGRES_USER": address.user,
        "POSTGRES_PASSWORD": address.password,
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_LOCK_TIMEOUT": "30",
        "CREATE_TABLE": "y" if create_table else "n",
        "AGGREGATE_CACHE_FASTFORWARD": "y" if fastforward else "n",
        # Deep copies protect the cache from a failed save; a single writer needs none.
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y" if fastforward else "n",
    }
    if cache is not None:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(cache)
    return env


class NaiveLedger(Application[UUID]):
    """The plain application: get or create, apply, save."""

    name = "NaiveLedger"

    def subject(self, code: str) -> CreditSubject:
        """The subject's aggregate, created (unsaved) if it has no events yet."""
        try:
            aggregate: CreditSubject = self.repository.get(CreditSubject.create_id(code))
        except AggregateNotFoundError:
            aggregate = CreditSubject(code)
        return aggregate

    def submit_batch(self, cloudevents: Sequence[Mapping[str, Any]]) -> None:
        """Apply a batch (in order) and save every touched aggregate in one call."""
        touched: dict[str, CreditSubject] = {}
        for ce in cloudevents:
            code = ce["subject"]
            aggregate = touched.get(code)
            if aggregate is None:
                aggregate = touched[code] = self.subject(code)
            aggregate.apply(ce)
        self.save(*touched.values())

    def submit_one(self, cloudevent: Mapping[str, Any], attempts: int = 50) -> int:
        """Apply and save one event, retrying on a version conflict after a random
        back-off (at most 0.2 s); returns the attempts used. Raises
        RecordConflictError when every attempt conflicted."""
        for attempt in range(1, attempts + 1):
            aggregate = self.subject(cloudevent["subject"])
            aggregate.apply(cloudevent)
            try:
                self.save(aggregate)
                return attempt
            except RecordConflictError:
                if attempt == attempts:
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))
        return attempts

    def replay(self, code: str) -> CreditSubject:
        """``repository.get()`` of a subject (raises AggregateNotFoundError)."""
        aggregate: CreditSubject = self.repository.get(CreditSubject.create_id(code))
        return aggregate
