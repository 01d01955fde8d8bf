"""The read side the API serves: one adapter over the projections and the audit log.

:class:`Views` is what the routes need; :class:`LedgerViews` implements it over
``projections.reads.Reads`` (which picks the mode per read: the materialised
views for "now" when they cover the subject's last record, a fold of the
subject's stream on demand for any ``as_of`` / ``known_at``), the ledger's
Merkle tree and checkpoints (``ledger.audit``). Every method returns a
:class:`View`: the JSON-ready body and whether it exposed personal data of the
subject (so the caller can write the access log).

Unknown subjects: a valid code with no records (as known at ``known_at``) is
:class:`projections.reads.UnknownSubject` (one class, raised by the projections
and answered 404 by the routes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from api.names import PERSON_TYPE, NameIndex
from ledger.app import Ledger
from ledger.store.views import LIST_NAMES
from projections import reads as projection_reads
from projections.public import PUBLIC, Audience
from projections.reads import UnknownSubject
from projections.timeline import instant_text

__all__ = [
    "PERSON_TYPE",
    "LedgerViews",
    "NoCheckpoint",
    "NotAvailable",
    "UnknownList",
    "UnknownSubject",
    "View",
    "Views",
]


class UnknownList(LookupError):
    """No public list of that name."""


class NotAvailable(RuntimeError):
    """A read the ledger cannot answer right now (a part not built or not reachable)."""


class NoCheckpoint(LookupError):
    """No checkpoint has been issued yet."""


@dataclass(frozen=True, slots=True)
class View:
    """A JSON-ready body and whether it carries personal data of the subject."""

    body: Any
    personal: bool = False


class Views(Protocol):
    """What the routes read. Instants are microseconds UTC; None = now / no limit."""

    def standing(self, code: str, as_of_us: int | None, known_at_us: int | None) -> View: ...

    def disclosure(
        self,
        code: str,
        as_of_us: int | None,
        known_at_us: int | None,
        audience: Audience = PUBLIC,
    ) -> View: ...

    def history(
        self, code: str, as_of_us: int | None, known_at_us: int | None, role: str = "public"
    ) -> View: ...

    def list_members(
        self,
        name: str,
        as_of_us: int | None,
        known_at_us: int | None,
        audience: Audience = PUBLIC,
    ) -> View: ...

    def list_names(self) -> list[str]: ...

    def audit_bundle(self, code: str, checkpoint: int | None = None) -> View: ...

    def latest_checkpoint(self) -> View: ...

    def consistency(self, old: int, new: int) -> View: ...

    def readiness(self) -> dict[str, Any]: ...


class LedgerViews:
    """:class:`Views` over a :class:`~ledger.app.Ledger`, ``projections.reads``
    and ``ledger.audit``.

    ``keystore`` (``ledger.sealing.KeyStore``) decrypts identity numbers for
    the roles allowed to read them; ``index`` tells which subjects carry
    personal data (default: a fresh :class:`NameIndex`); ``signing_key`` (the
    ledger's Ed25519 checkpoint key) gives bundles their ``public_key`` and
    issues the first checkpoint when there is none (``origin``: its name), checked against
    and written to ``checkpoint_log`` (``ledger.audit.checkpoint_log.CheckpointLog``).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        clock: Callable[[], int] | None = None,
        keystore: Any | None = None,
        index: NameIndex | None = None,
        reads: projection_reads.Reads | None = None,
        signing_key: Any | None = None,
        origin: str = "credit-ledger",
        checkpoint_log: Any | None = None,
    ) -> None:
        if ledger.rules is None:
            raise ValueError("the API needs a ledger with rule services (bootstrap builds one)")
        self.ledger = ledger
        self.clock = clock or ledger.clock
        self.keystore = keystore if keystore is not None else getattr(ledger, "keystore", None)
        self.index = index or NameIndex(ledger)
        self.reads = reads or projection_reads.Reads(
            ledger.recorder, ledger.rules, clock=self.clock, keystore=self.keystore
        )
        self.signing_key = signing_key
        self.origin = origin
        self.checkpoint_log = checkpoint_log
        self.public_key: str | None = None
        if signing_key is not None:
            from ledger.audit.keys import public_key_b64

            self.public_key = public_key_b64(signing_key)

    # -- subject views -------------------------------------------------------------
    def standing(self, code: str, as_of_us: int | None, known_at_us: int | None) -> View:
        body = self.reads.standing(code, as_of_us, known_at_us)
        return View(body, self.index.has_person(code))

    def disclosure(
        self,
        code: str,
        as_of_us: int | None,
        known_at_us: int | None,
        audience: Audience = PUBLIC,
    ) -> View:
        """The disclosure as ``audience`` may see it (default: the public's)."""
        body = self.reads.disclosure(code, as_of_us, known_at_us, audience)
        return View(body, False)

    def history(
        self, code: str, as_of_us: int | None, known_at_us: int | None, role: str = "public"
    ) -> View:
        result = self.reads.history(code, as_of_us, known_at_us)
        events = result.to_json()
        personal = False
        for event in events:
            data = event.get("data")
            if isinstance(data, dict) and (
                event.get("type") == PERSON_TYPE
                or (isinstance(data.get("changes"), dict) and "id_number" in data["changes"])
            ):
                personal = True
                event["data"] = self._reveal(data, role)
        body = {
            "subject": code,
            "subject_name": result.subject_name,
            "as_of": instant_text(as_of_us),
            "known_at": instant_text(known_at_us),
            "events": events,
        }
        return View(body, personal)

    def _reveal(self, data: dict[str, Any], role: str) -> dict[str, Any]:
        """Personal data for ``role``: in clear for the roles that may read it,
        masked otherwise (``ledger.sealing.reveal`` decrypts when the ledger
        stores identity numbers encrypted)."""
        from ledger import sealing

        as_role = "handler" if role == "objection-handler" else role
        if self.keystore is None:
            out = dict(data)
            value = out.get("id_number")
            if isinstance(value, str) and as_role not in sealing.CLEAR_ROLES:
                out["id_number"] = sealing.mask(value)
            return out
        return sealing.reveal(data, self.keystore, as_role)

    # -- lists ---------------------------------------------------------------------
    def list_names(self) -> list[str]:
        return list(LIST_NAMES)

    def list_members(
        self,
        name: str,
        as_of_us: int | None,
        known_at_us: int | None,
        audience: Audience = PUBLIC,
    ) -> View:
        """The members as ``audience`` may see them (default: the public's)."""
        try:
            body = self.reads.list_members(name, as_of_us, known_at_us, audience)
        except projection_reads.UnknownList as e:
            raise UnknownList(name) from e
        return View(body)

    # -- audit ---------------------------------------------------------------------
    def _checkpoint(self, size: int | None) -> Any:
        """The stored checkpoint of ``size`` (default: the latest; the first one is
        issued when none exists and a signing key is configured)."""
        from ledger.audit.checkpoints import (
            CheckpointError,
            checkpoint_at,
            issue_checkpoint,
            latest_checkpoint,
        )

        if size is not None:
            found = checkpoint_at(self.ledger.recorder, size)
            if found is None:
                raise NoCheckpoint(f"no checkpoint of size {size}")
            return found
        found = latest_checkpoint(self.ledger.recorder)
        if found is None and self.signing_key is not None:
            try:
                found = issue_checkpoint(
                    self.ledger.recorder,
                    self.signing_key,
                    self.origin,
                    self.clock(),
                    log=self.checkpoint_log,
                )
            except CheckpointError as e:  # e.g. not consistent with the checkpoint log
                raise NotAvailable(f"no checkpoint can be issued: {e}") from e
        if found is None:
            raise NoCheckpoint("no checkpoint has been issued yet (`ledger checkpoint`)")
        return found

    def audit_bundle(self, code: str, checkpoint: int | None = None) -> View:
        """AUDIT-FORMAT.md's bundle of ``code`` at the checkpoint of size
        ``checkpoint`` (default: the latest). Raises :class:`UnknownSubject` when
        the ledger has no record of the subject at all, :class:`NoCheckpoint`, and
        :class:`NotAvailable` when the store fails its own checks (never hands out
        a bundle that would not verify)."""
        from ledger.audit.bundle import BundleError, build_bundle
        from ledger.audit.proofs import ProofError

        if not self.index.knows(code):
            self.index.refresh()
            if not self.index.knows(code):
                raise UnknownSubject(code)
        if self.public_key is None:
            raise NotAvailable("no checkpoint signing key is configured")
        signed = self._checkpoint(checkpoint)
        try:
            bundle = build_bundle(self.ledger.recorder, code, signed, self.public_key)
        except (BundleError, ProofError) as e:
            raise NotAvailable(f"the store fails its own audit checks: {e}") from e
        return View(bundle, any(r["record"]["type"] == PERSON_TYPE for r in bundle["records"]))

    def latest_checkpoint(self) -> View:
        from ledger.audit.checkpoints import latest_checkpoint

        found = latest_checkpoint(self.ledger.recorder)
        if found is None:
            raise NoCheckpoint("no checkpoint has been issued yet (`ledger checkpoint`)")
        return View(found.to_json())

    def consistency(self, old: int, new: int) -> View:
        """PROOF(old, new) with both roots; between two stored checkpoints, the
        proof is checked against their signed roots first (``ledger.audit.proofs``)."""
        from ledger import merkle
        from ledger.audit import proofs
        from ledger.audit.checkpoints import checkpoint_at

        size = self.ledger.size()
        if new > size:
            raise LookupError(f"to = {new} is beyond the ledger's {size} records")
        signed = {at: checkpoint_at(self.ledger.recorder, at) if at else None for at in (old, new)}
        with self.ledger.recorder.tree_node_reader() as node:
            proof = merkle.consistency_proof(old, new, node)
            old_root = merkle.root_from_frontier(old, node)
            new_root = merkle.root_from_frontier(new, node)
        older, newer = signed[old], signed[new]
        if older is not None and newer is not None:
            with self.ledger.recorder.audit_reader() as cursor:
                try:
                    proof = proofs.consistency_proof(self.ledger.recorder, cursor, older, newer).path
                except proofs.ProofError as e:
                    raise NotAvailable(f"the store fails its own audit checks: {e}") from e
        body: dict[str, Any] = {
            "from": old,
            "to": new,
            "proof": [h.hex() for h in proof],
            "from_root": old_root.hex(),
            "to_root": new_root.hex(),
            "from_checkpoint": older.to_json() if older is not None else None,
            "to_checkpoint": newer.to_json() if newer is not None else None,
        }
        return View(body)

    # -- health --------------------------------------------------------------------
    def readiness(self) -> dict[str, Any]:
        """``database`` ok (the ledger's size read), the views' positions,
        ``projections_lag``: how many records the slowest view trails by, and
        ``failed_subjects``: how many subjects' views are marked failed and the first
        20 of them (subject, event id, ledger position, error, when)."""
        size = self.ledger.size()
        positions = self.reads.store.positions()
        lag = size - min(positions.values()) if positions else size
        failed, first = self.reads.store.failed_subjects(limit=20)
        return {
            "database": "ok",
            "ledger_size": size,
            "views": positions,
            "projections_lag": max(lag, 0),
            "failed_subjects": {"count": failed, "subjects": [f.to_json() for f in first]},
        }
