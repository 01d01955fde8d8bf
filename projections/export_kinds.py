"""What ``ledger export`` and ``GET /v1/exports`` offer: the kinds and the formats.

Kept apart from :mod:`projections.exports` (which loads pyarrow) so that the command line can
declare its options without loading pyarrow: the ``ledger`` script is the main module that
every spawned worker process imports again.
"""

from __future__ import annotations

__all__ = ["EXPORT_FORMATS", "EXPORT_KINDS"]

EXPORT_KINDS = ("records", "disclosure", "lists", "standing")
EXPORT_FORMATS = ("parquet", "csv", "jsonl")
