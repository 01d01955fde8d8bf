"""A subject's audit bundle (AUDIT-FORMAT.md "The bundle", plus the optional ``head`` of
docs/audit-format-v1-additions.md).

The bundle holds every record of the subject with position below the checkpoint's size, in
seq order, each with its hash and inclusion proof; the signed checkpoint; the public key;
and the subject's head proof against ``checkpoint.heads_root``, which shows the last record
is the subject's last at that checkpoint. Building it rechecks the subject's records with the
verifier's own code (:func:`ledger.audit.record_checks.check_rows`) and every proof against the
signed roots: the ledger refuses to hand out a bundle that would not verify.
"""

from __future__ import annotations

from typing import Any

import orjson

from events.codes import subject_stream_id
from ledger.audit.checkpoints import Checkpoint
from ledger.audit.format import BUNDLE_FORMAT
from ledger.audit.proofs import ProofError, head_proof, inclusion_paths
from ledger.audit.record_checks import check_rows
from ledger.audit.verify_outcome import Failure
from ledger.chain import record_dict
from ledger.store.recorder import LedgerSQL

__all__ = ["BUNDLE_FORMAT", "BundleError", "build_bundle", "verify_subject"]


class BundleError(RuntimeError):
    """The subject's records in the store do not check out; ``failure`` says where."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def build_bundle(
    recorder: LedgerSQL, subject: str, checkpoint: Checkpoint, public_key_b64: str
) -> dict[str, Any]:
    """The audit bundle of ``subject`` (a validated code) at ``checkpoint``.

    Raises:
        BundleError: a record of the subject fails a check (hash, chain, stream id, time).
        ProofError: a proof does not verify against the checkpoint's signed roots.
    """
    with recorder.audit_reader() as cursor:
        rows = recorder.stream_audit_rows(cursor, subject_stream_id(subject), checkpoint.size)
        for row in rows:
            if row[1] != subject:
                raise BundleError(
                    Failure(
                        "stream",
                        f"a record of subject {row[1]} is in the stream of {subject}",
                        row[0] - 1,
                        row[1],
                        row[3],
                        row[4],
                    )
                )
        digests: list[bytes] = []
        failure = check_rows(rows, {}, digests)
        if failure is not None:
            raise BundleError(failure)
        paths = inclusion_paths(recorder, cursor, [(r[0] - 1, r[11]) for r in rows], checkpoint)
        head = head_proof(recorder, cursor, subject, checkpoint)
    last = rows[-1] if rows else None
    if (head.leaf is None) != (last is None) or (
        head.leaf is not None
        and last is not None
        and (head.leaf.seq, head.leaf.hash) != (last[3], bytes(last[11]))
    ):
        raise ProofError(
            f"the head of {subject} in checkpoint {checkpoint.size} is not its last record "
            "there: run `ledger verify`"
        )
    records = [
        {
            "record": record_dict(
                subject=row[1],
                seq=row[3],
                position=row[0] - 1,
                id=row[4],
                source=row[5],
                type=row[6],
                time=row[7],
                recorded_us=row[9],
                data=orjson.loads(row[10]),
                prev=bytes(row[12]).hex(),
            ),
            "hash": bytes(row[11]).hex(),
            "inclusion": [p.hex() for p in path],
        }
        for row, path in zip(rows, paths, strict=True)
    ]
    return {
        "format": BUNDLE_FORMAT,
        "subject": subject,
        "public_key": public_key_b64,
        "checkpoint": checkpoint.to_json(),
        "records": records,
        "head": head.to_json(),
    }


def verify_subject(
    recorder: LedgerSQL, subject: str, checkpoint: Checkpoint, public_key: bytes | None = None
) -> Failure | None:
    """Check one subject against ``checkpoint`` the way its bundle would be: its records,
    their inclusion, its head, and (with ``public_key``) the signature. None if all hold."""
    if public_key is not None and not checkpoint.verify_signature(public_key):
        return Failure("checkpoint", f"checkpoint of size {checkpoint.size}: bad signature")
    try:
        build_bundle(recorder, subject, checkpoint, "")
    except BundleError as e:
        return e.failure
    except ProofError as e:
        return Failure("proof", str(e), subject=subject)
    return None
