"""What the CLI and the API read, each answered by the mode that serves it.

=====================  ====================================================  =======
read                   served by                                             mode
=====================  ====================================================  =======
standing now           ``view_standing`` row, when it covers the subject's   ASYNC
                       last record and ``next_change`` has not passed;
                       otherwise folded on demand                            LIVE
disclosure now         ``view_disclosure`` plans rendered at now, when the   ASYNC
                       view covers the subject's last record; otherwise      LIVE
standing / disclosure  folded on demand (``projections.live``)               LIVE
at ``as_of`` /
``known_at``
history                folded on demand                                      LIVE
list members           ``view_list_members`` (bitemporal rows), exact for    ASYNC
                       any ``as_of`` and any ``known_at`` the runner has
                       processed; ``complete`` says whether it had
=====================  ====================================================  =======

(No view is updated INLINE in the write transaction: the ledger's write path
stays the ledger's.) Every answer is the JSON shape of DESIGN.md (``to_json``),
whichever mode served it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from commands.services import RuleServices
from events.codes import subject_stream_id
from ledger.store.recorder import LedgerSQL
from ledger.store.views import LIST_NAMES, ViewStore, tracking_name
from projections.disclosure_item import ItemPlan, Reveal, public_items, render
from projections.history import History
from projections.live import LiveReads, UnknownSubject
from projections.public import EVERYTHING, Audience, disclosure_for, members_for
from projections.timeline import instant_text

__all__ = ["LIST_NAMES", "Reads", "SubjectViewsFailed", "UnknownList", "UnknownSubject"]


class UnknownList(LookupError):
    """No register of that name (see ``LIST_NAMES``)."""


class SubjectViewsFailed(RuntimeError):
    """The subject's views are marked failed (``view_failed_subjects``) and folding it
    on demand raised as well: nothing trustworthy can be answered for it now."""

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"the views of subject {subject} failed to fold and are not served; an operator "
            f"retries them with `ledger rebuild --subject {subject}`"
        )
        self.subject = subject


class Reads:
    """The read side over one ledger database (module docstring).

    ``clock()`` gives "now" in microseconds UTC (the composition root's clock);
    ``keystore`` (the ledger's ``ledger.sealing.KeyStore``) lets the disclosure
    show encrypted identity numbers masked (without it they are null).
    """

    def __init__(
        self,
        recorder: LedgerSQL,
        rules: RuleServices,
        *,
        clock: Callable[[], int],
        store: ViewStore | None = None,
        live: LiveReads | None = None,
        keystore: Any | None = None,
    ) -> None:
        self.recorder = recorder
        self.rules = rules
        self.clock = clock
        self.store = store or recorder.store.views()
        self.live = live or LiveReads(recorder, rules, store=self.store, warm_after_snapshot=True)
        self.reveal: Reveal | None = None
        """Shows an identity number the ledger stores encrypted the way the public
        may see it (masked, or "erased"); from ``keystore`` (``ledger.sealing``)."""
        if keystore is not None:
            from ledger import sealing

            def reveal(value: Any) -> str | None:
                shown = sealing.reveal({"id_number": value}, keystore, "public")["id_number"]
                return shown if isinstance(shown, str) else None

            self.reveal = reveal
        self.served_by: str = ""
        """Which mode served the last read (``ASYNC`` or ``LIVE``), for tests and logs."""

    def _view_position(self, view: str) -> int:
        return self.recorder.max_tracking_id(tracking_name(view)) or 0  # type: ignore[attr-defined]

    # -- subjects ------------------------------------------------------------------------
    def standing(
        self, subject: str, as_of_us: int | None = None, known_at_us: int | None = None
    ) -> dict[str, Any]:
        """``standing --json`` at ``as_of_us`` (None: now) as known at
        ``known_at_us`` (None: now). Raises :class:`UnknownSubject`."""
        now = self.clock()
        if as_of_us is None and known_at_us is None:
            current = self._current_standing(subject, now)
            if current is not None:
                self.served_by = "ASYNC"
                return current
        self.served_by = "LIVE"
        with self._failed_as(subject):
            return self.live.standing(
                subject, now if as_of_us is None else as_of_us, known_at_us
            ).to_json()

    @contextlib.contextmanager
    def _failed_as(self, subject: str) -> Iterator[None]:
        """Turn a live fold that raises for a subject marked failed into
        :class:`SubjectViewsFailed` (anything else raises as it is)."""
        try:
            yield
        except UnknownSubject:
            raise
        except Exception as exc:
            if self.store.failed_among([subject]):
                raise SubjectViewsFailed(subject) from exc
            raise

    def _current_standing(self, subject: str, now: int) -> dict[str, Any] | None:
        head = self.store.stream_head(subject_stream_id(subject))
        if head is None:
            raise UnknownSubject(subject)
        row = self.store.standing_row(subject)
        if row is None or row[0] != head[0] or row[2] > now:
            return None
        if row[3] is not None and row[3] <= now:
            return None  # stale by the calendar: fold live
        body: dict[str, Any] = orjson.loads(row[4])
        body["as_of"] = instant_text(now)
        return body

    def disclosure(
        self,
        subject: str,
        as_of_us: int | None = None,
        known_at_us: int | None = None,
        audience: Audience = EVERYTHING,
    ) -> dict[str, Any]:
        """``disclosure --json`` (see :meth:`standing` for the instants) as
        ``audience`` may see it (``projections.public``: the public sees only what
        is published now, whatever the instants)."""
        at = self._disclosure(subject, as_of_us, known_at_us)
        if audience.everything:
            return at
        now = at if as_of_us is None and known_at_us is None else self._disclosure(subject)
        return disclosure_for(audience, at, now)

    def _disclosure(
        self, subject: str, as_of_us: int | None = None, known_at_us: int | None = None
    ) -> dict[str, Any]:
        now = self.clock()
        if as_of_us is None and known_at_us is None:
            head = self.store.stream_head(subject_stream_id(subject))
            if head is None:
                raise UnknownSubject(subject)
            if self._view_position("disclosure") >= head[1] and not self.store.failed_among(
                [subject]
            ):
                self.served_by = "ASYNC"
                bodies = self.store.disclosure_bodies([subject])[subject]
                items = []
                for seq in sorted(bodies):
                    item = render(ItemPlan.from_json(orjson.loads(bodies[seq])), now)
                    if item is not None:
                        items.append(item)
                row = self.store.standing_row(subject)
                name = orjson.loads(row[4]).get("subject_name") if row is not None else None
                return {
                    "subject": subject,
                    "subject_name": name,
                    "as_of": instant_text(now),
                    "known_at": None,
                    "items": public_items(items, self.reveal),
                }
        self.served_by = "LIVE"
        with self._failed_as(subject):
            return self.live.disclosure(
                subject, now if as_of_us is None else as_of_us, known_at_us
            ).to_json(self.reveal)

    def history(
        self, subject: str, as_of_us: int | None = None, known_at_us: int | None = None
    ) -> History:
        """The traceable history (always LIVE)."""
        self.served_by = "LIVE"
        with self._failed_as(subject):
            return self.live.history(subject, as_of_us, known_at_us)

    # -- lists -----------------------------------------------------------------------------
    def list_members(
        self,
        name: str,
        as_of_us: int | None = None,
        known_at_us: int | None = None,
        audience: Audience = EVERYTHING,
    ) -> dict[str, Any]:
        """The members of register ``name`` at ``as_of_us`` as known at
        ``known_at_us`` (None: now), from the list view. ``complete`` is false when
        the runner had not yet processed every record recorded by ``known_at``
        (``behind`` says how many records it lags) or when the views of some subjects
        are marked failed (``failed_subjects`` counts them). ``audience``: who reads
        (``projections.public``: the public sees a listing only while it is
        current now). Raises :class:`UnknownList`."""
        at = self._list_members(name, as_of_us, known_at_us)
        if audience.everything:
            return at
        now = at if as_of_us is None and known_at_us is None else self._list_members(name)
        return members_for(audience, at, now)

    def _list_members(
        self, name: str, as_of_us: int | None = None, known_at_us: int | None = None
    ) -> dict[str, Any]:
        if name not in LIST_NAMES:
            raise UnknownList(f"no register {name!r}; known: {', '.join(LIST_NAMES)}")
        self.served_by = "ASYNC"
        now = self.clock()
        as_of = now if as_of_us is None else as_of_us
        known = now if known_at_us is None else known_at_us
        position = self._view_position("lists")
        head = self.recorder.max_notification_id() or 0
        next_recorded = self.store.recorded_at(position + 1) if position < head else None
        complete = next_recorded is None or next_recorded > known
        members = [orjson.loads(body) for _, body in self.store.list_rows(name, as_of, known)]
        failed, _ = self.store.failed_subjects(limit=0)
        return {
            "list": name,
            "as_of": instant_text(as_of),
            "known_at": instant_text(known_at_us),
            "count": len(members),
            "members": members,
            "complete": complete and not failed,
            "behind": head - position,
            "failed_subjects": failed,
        }
