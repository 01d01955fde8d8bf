"""The audit side of the ledger (AUDIT-FORMAT.md): signed checkpoints, proofs, bundles and
the store verifier.

* :mod:`ledger.audit.keys`: the Ed25519 signing key file;
* :mod:`ledger.audit.checkpoints`: issuing and reading signed checkpoints, the heads tree;
* :mod:`ledger.audit.proofs`: inclusion, consistency and subject-head proofs from the store;
* :mod:`ledger.audit.bundle`: a subject's audit bundle;
* :mod:`ledger.audit.verify`: ``ledger verify``, the whole-store recheck;
* :mod:`entrypoints.cli.audit`: the ``checkpoint``, ``verify``, ``audit-bundle`` and ``proof``
  subcommands (``register``).
"""

from ledger.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    checkpoint_at,
    issue_checkpoint,
    latest_checkpoint,
    list_checkpoints,
)
from ledger.audit.keys import load_or_create_key, public_key_b64, public_key_bytes
from ledger.audit.verify import verify_store
from ledger.audit.verify_outcome import Failure, VerifyReport

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "Failure",
    "VerifyReport",
    "checkpoint_at",
    "issue_checkpoint",
    "latest_checkpoint",
    "list_checkpoints",
    "load_or_create_key",
    "public_key_b64",
    "public_key_bytes",
    "verify_store",
]
