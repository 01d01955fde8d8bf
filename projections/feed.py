"""The disclosure change feed: ``credit.disclosure.changes``.

A follower of the ledger's notifications (positions in commit order). For every
record it reads, it computes the recorded subject's public disclosure
(:func:`projections.disclosure.disclosure`) just before and just after that record
— both as of the record's recording moment, so the difference is what the record
itself changed — and produces one CloudEvent per item whose public status changed:

``published``
    an item not shown before is shown now (a penalty decided, a repair revoked …);
``ended``
    an item shown before is not shown now (repair approved, penalty withdrawn,
    record revoked …);
``updated``
    an item shown before and after, with different content (a correction).

What the public may see (``projections.public.feed_change``, DOMAIN.md "What the
public sees"): an ``ended`` change is a removal that carries the item's
``event_id`` only (mirrors delete it; no content, no cause, no reason); a
``published`` or ``updated`` change of an item that is not published NOW (at the
moment the feed produces it, with every record known) is not produced at all,
so a feed that catches up never ships the content of a record repaired, expired,
withdrawn or revoked since; an item shown carries its current content
(corrections applied, marked 已更正).

Each change is a CloudEvent of type ``credit.disclosure.changed`` keyed by the
subject code (so one subject's changes stay in one partition, in ledger order),
with ``data``: ``event_id`` (the item), ``change``, ``published``, ``from``,
``until``, ``reason``, ``position`` (the ledger position of the causing record),
``cause`` (that record's id, source, type, seq), ``item`` (the item as now
shown) and ``subject_name`` (as the disclosure shows it, or null); a removal (``ended``)
has only ``event_id``, ``change``, ``published`` and ``position``. Its ``id`` is
``disclosure:<position>:<event_id>``: the same change always gets the same id. The
extension attribute ``origin`` is the ledger's origin name (``LEDGER_NAME``, the one its
checkpoints carry), so a consumer of several regions' feeds (``federation.national``)
can tell them apart.

Changes by the mere passage of time (a disclosure period running out) are not
records and are not in the feed: the ``until`` of a ``published`` change already
says when the item will end.

Delivery: at least once. Positions are processed in order, in batches; a batch's
changes are produced and flushed, THEN its position is recorded (eventsourcing
``Tracking``, application ``disclosure-feed``). After a crash between the two the
batch is produced again on restart: consumers drop a change whose ``position`` is
not beyond the last one they applied for that subject (or dedupe on ``id``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from eventsourcing.persistence import Tracking

from commands.services import RuleServices
from events.recorded import RecordedEvent
from ledger import heartbeat
from ledger.app import Ledger
from ledger.producers import feed_producer
from ledger.store.rows import row_to_event
from projections.disclosure import disclosure
from projections.disclosure_item import public_items
from projections.public import feed_change, published_items

__all__ = [
    "CHANGE_TYPE",
    "DEFAULT_APPLICATION",
    "DEFAULT_FEED_TOPIC",
    "Change",
    "DisclosureFeed",
    "changes_between",
    "feed_producer",
]

log = logging.getLogger("projections.feed")

DEFAULT_FEED_TOPIC = "credit.disclosure.changes"
DEFAULT_APPLICATION = "disclosure-feed"
"""The tracking application name of the feed's position."""
CHANGE_TYPE = "credit.disclosure.changed"


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one disclosure item, caused by the record at ``cause.position``."""

    subject: str
    change: str
    """``published``, ``ended`` or ``updated``."""
    item: dict[str, Any]
    """The item as shown after the record (or before it, if it left the view)."""
    cause: RecordedEvent

    def to_cloudevent(
        self, source: str, origin: str | None = None, subject_name: str | None = None
    ) -> dict[str, Any]:
        """The CloudEvents 1.0 structured-JSON form (module docstring); ``origin`` the
        ledger's origin name (attribute left out when None)."""
        c = self.cause
        data: dict[str, Any] = {
            "event_id": self.item["event_id"],
            "change": self.change,
            "published": self.item.get("published", False),
            "position": c.position,
        }
        if self.change != "ended":
            data.update(
                {
                    "from": self.item.get("from"),
                    "until": self.item.get("until"),
                    "reason": self.item.get("reason"),
                    "cause": {"id": c.id, "source": c.source, "type": c.type, "seq": c.seq},
                    "item": self.item,
                    "subject_name": subject_name,
                }
            )
        return {
            "specversion": "1.0",
            "id": f"disclosure:{c.position}:{self.item['event_id']}",
            "source": source,
            "type": CHANGE_TYPE,
            "subject": self.subject,
            "time": _rfc3339(c.recorded_us),
            "datacontenttype": "application/json",
            **({} if origin is None else {"origin": origin}),
            "data": data,
        }


def _rfc3339(us: int) -> str:
    moment = datetime.fromtimestamp(us / 1_000_000, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def changes_between(
    subject: str,
    before: Sequence[dict[str, Any]],
    after: Sequence[dict[str, Any]],
    cause: RecordedEvent,
) -> list[Change]:
    """The changes from one list of disclosure items to the next (items matched by
    ``event_id``), in the order of ``after`` then of items that left the view."""
    old = {i["event_id"]: i for i in before}
    new = {i["event_id"]: i for i in after}
    out: list[Change] = []
    for event_id, item in new.items():
        was = old.get(event_id)
        shown_before = bool(was and was.get("published"))
        if item.get("published"):
            if not shown_before:
                out.append(Change(subject, "published", item, cause))
            elif was != item:
                out.append(Change(subject, "updated", item, cause))
        elif shown_before:
            out.append(Change(subject, "ended", item, cause))
    for event_id, was in old.items():
        if event_id not in new and was.get("published"):
            gone = {**was, "published": False, "reason": "no longer in the disclosure view"}
            out.append(Change(subject, "ended", gone, cause))
    return out


class DisclosureFeed:
    """Follows the ledger from its tracked position and produces disclosure changes.

    Contract: every ledger position is processed once per successful :meth:`step`,
    in order; a batch's changes are acknowledged by Kafka before its position is
    tracked (at least once; see the module docstring). Not thread-safe: one
    thread runs it.
    """

    def __init__(
        self,
        ledger: Ledger,
        producer: Any,
        *,
        topic: str = DEFAULT_FEED_TOPIC,
        application_name: str = DEFAULT_APPLICATION,
        source: str = "credit-ledger/disclosure",
        batch_size: int = 500,
        rules: RuleServices | None = None,
        origin: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.producer = producer
        self.topic = topic
        self.application_name = application_name
        self.source = source
        self.batch_size = batch_size
        self.origin = origin
        """The ``origin`` attribute of every change (the ledger's ``LEDGER_NAME``)."""
        self.rules = rules or ledger.rule_services()

    def position(self) -> int:
        """How many ledger positions were processed (= the next position to read)."""
        tracked = self.ledger.recorder.max_tracking_id(self.application_name)  # type: ignore[attr-defined]
        return int(tracked or 0)

    def step(self) -> int:
        """Process the next batch of positions; returns how many (0: caught up).

        Raises what Kafka or the store raise; nothing is tracked for a failed batch.
        """
        start = self.position()
        rows = self.ledger.recorder.select_notification_rows(start + 1, self.batch_size)
        if not rows:
            return 0
        started = time.perf_counter()
        records = [row_to_event(r) for r in rows]
        last = records[-1].position
        streams: dict[str, list[RecordedEvent]] = {}
        shown_now: dict[str, dict[str, Mapping[str, Any]]] = {}
        names: dict[str, str | None] = {}
        now = self.ledger.clock()
        memo: dict[str, tuple[int, int, Sequence[dict[str, Any]]]] = {}
        futures = []
        changes = 0
        for record in records:
            stream = streams.get(record.subject)
            if stream is None:
                everything = self.ledger.stream(record.subject)
                stream = [r for r in everything if r.position <= last]
                streams[record.subject] = stream
                current = disclosure(record.subject, everything, now, None, self.rules)
                shown_now[record.subject] = published_items(public_items(current.items))
                names[record.subject] = current.subject_name
            for change in self._changes(record, stream, memo, shown_now[record.subject]):
                value = orjson.dumps(
                    change.to_cloudevent(self.source, self.origin, names[record.subject])
                )
                futures.append(
                    self.producer.send(self.topic, key=record.subject.encode(), value=value)
                )
                changes += 1
                log.info(
                    "position %d subject=%s event %s (%s): %s %s",
                    record.position,
                    record.subject,
                    change.item["event_id"],
                    record.type,
                    change.change,
                    change.item.get("until") or "",
                )
        self.producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
        self.ledger.recorder.insert_tracking(Tracking(self.application_name, last + 1))  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        log.info(
            "feed batch: positions %d..%d (%d records, %d subjects): %d changes; %.3f s, "
            "%.0f records/s",
            start,
            last,
            len(records),
            len(streams),
            changes,
            elapsed,
            len(records) / elapsed if elapsed > 0 else 0.0,
        )
        return len(records)

    def _changes(
        self,
        record: RecordedEvent,
        stream: Sequence[RecordedEvent],
        memo: dict[str, tuple[int, int, Sequence[dict[str, Any]]]],
        shown_now: Mapping[str, Mapping[str, Any]],
    ) -> list[Change]:
        """The changes ``record`` makes to its subject's disclosure, as the public
        feed carries them (``shown_now``: the items published now, by id; module
        docstring). ``memo`` keeps, per subject, the last (seq, as_of, items)
        computed: the "after" of one record is the "before" of the subject's next
        one when both were recorded at once."""
        upto = [r for r in stream if r.position <= record.position]
        as_of = record.recorded_us
        known = memo.get(record.subject)
        if known is not None and known[0] == record.seq - 1 and known[1] == as_of:
            old = known[2]
        else:
            before = [r for r in upto if r.position < record.position]
            old = disclosure(record.subject, before, as_of, None, self.rules).items
        new = disclosure(record.subject, upto, as_of, None, self.rules).items
        memo[record.subject] = (record.seq, as_of, new)
        out = []
        for change in changes_between(record.subject, old, new, record):
            shown = feed_change(change.change, change.item, shown_now)
            if shown is not None:
                out.append(Change(change.subject, change.change, shown, change.cause))
        return out

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        idle_s: float = 0.5,
        until_caught_up: bool = False,
    ) -> int:
        """Step until ``stop`` is set (or, with ``until_caught_up``, until a step finds
        nothing new); waits ``idle_s`` when caught up. Returns positions processed."""
        stop = stop or threading.Event()
        total = 0
        while not stop.is_set():
            heartbeat.beat()
            n = self.step()
            total += n
            if n == 0:
                if until_caught_up:
                    break
                stop.wait(idle_s)
        return total
