"""Every table the ledger keeps beside its records, declared once for both databases.

A declaration is DDL text with two kinds of fields that :meth:`ledger.store.base.Store.ddl`
fills in for its database: ``{table_name}`` for a table (schema-qualified on PostgreSQL)
and a type or clause name from :class:`Types` (``{bigint}``, ``{blob}``, ``{uuid}`` …).
Index names are written bare (an index lives in its table's schema).

The groups, created together and in this order by the store's factory:

* :data:`LEDGER`: the records (``ledger_records``: the eventsourcing stored-events table
  and the audit log at once, see :mod:`ledger.store.recorder`), the stored Merkle nodes,
  the signed checkpoints with their subject heads and heads-tree nodes, the
  decision-state snapshots and the read snapshots;
* :data:`AUDIT`: the record of verify runs (``ledger.audit.verifications``) and the
  register of issued reports (``ledger.audit.reports``);
* :data:`PERSON_KEYS`: the per-person keys, the number index and the secret's
  fingerprint (:mod:`ledger.store.person_keys`);
* :data:`VIEWS`: the materialised views (:mod:`ledger.store.views`), created by the
  view store (a rebuild worker must not create them, see ``Store.views``).
"""

from __future__ import annotations

from dataclasses import dataclass

EVENTS_TABLE = "ledger_records"
MERKLE_TABLE = "ledger_merkle"
CHECKPOINTS_TABLE = "ledger_checkpoints"
"""Signed checkpoints (``ledger.audit``): append-only, one row per size, never updated."""
HEADS_TABLE = "ledger_checkpoint_heads"
"""Each checkpoint's subject heads, the leaves of its ``heads_root``, in subject order."""
HEAD_NODES_TABLE = "ledger_checkpoint_head_nodes"
"""Each checkpoint's heads-tree perfect nodes of level >= ``HEAD_NODES_MIN_LEVEL``."""
SNAPSHOTS_TABLE = "ledger_state_snapshots"
"""Decision-state snapshots (``ledger.snapshots``): one row per subject, the newest."""
READ_SNAPSHOTS_TABLE = "ledger_read_snapshots"
"""Read snapshots (``ledger.store.read_snapshots``): per subject the stream head a cold
as-of read may start from, the newest, and what does not depend on ``as_of``."""
READ_SNAPSHOT_LINES_TABLE = "ledger_read_snapshot_lines"
"""Each read snapshot's score lines, one per scored record and stretch of valid time."""
VERIFICATIONS_TABLE = "ledger_verifications"
REPORTS_TABLE = "ledger_reports"
PERSON_KEYS_TABLE = "ledger_person_keys"
PERSON_INDEX_TABLE = "ledger_person_index"
PERSON_SECRET_TABLE = "ledger_person_secret"
STANDING_TABLE = "view_standing"
DISCLOSURE_TABLE = "view_disclosure"
LIST_MEMBERS_TABLE = "view_list_members"
FAILED_SUBJECTS_TABLE = "view_failed_subjects"


@dataclass(frozen=True, slots=True)
class Types:
    """How one database spells the types and clauses the declarations name."""

    bigint: str
    """A 64-bit integer (SQLite: ``INTEGER``, so ``{bigint} PRIMARY KEY`` is the rowid)."""
    smallint: str
    uuid: str
    """A stream id (SQLite: its hex text)."""
    blob: str
    code_point_text: str
    """Text ordered by code point, as the heads tree is (SQLite's BINARY collation is)."""
    without_rowid: str
    """Appended to a table whose primary key is its storage order, where that exists."""


LEDGER: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {ledger_records} ("
    "notification_id {bigint} PRIMARY KEY, "
    "originator_id {uuid} NOT NULL, originator_version {bigint} NOT NULL, "
    "topic text NOT NULL, state {blob} NOT NULL, subject text NOT NULL, "
    "source text NOT NULL, event_id text NOT NULL, time text NOT NULL, "
    "time_us {bigint} NOT NULL, recorded_us {bigint} NOT NULL, "
    "schema_version {smallint} NOT NULL, hash {blob} NOT NULL, prev {blob} NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_records_stream "
    "ON {ledger_records} (originator_id, originator_version)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_records_key ON {ledger_records} (event_id, source)",
    "CREATE TABLE IF NOT EXISTS {ledger_merkle} (level {smallint} NOT NULL, "
    "idx {bigint} NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx)){without_rowid}",
    "CREATE TABLE IF NOT EXISTS {ledger_checkpoints} (size {bigint} PRIMARY KEY, "
    "issued_us {bigint} NOT NULL, body {blob} NOT NULL, signature {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {ledger_checkpoint_heads} (size {bigint} NOT NULL, "
    "ordinal {bigint} NOT NULL, subject {code_point_text} NOT NULL, seq {bigint} NOT NULL, "
    "hash {blob} NOT NULL, PRIMARY KEY (size, ordinal)){without_rowid}",
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_checkpoint_heads_subject "
    "ON {ledger_checkpoint_heads} (size, subject)",
    "CREATE TABLE IF NOT EXISTS {ledger_checkpoint_head_nodes} (size {bigint} NOT NULL, "
    "level {smallint} NOT NULL, idx {bigint} NOT NULL, hash {blob} NOT NULL, "
    "PRIMARY KEY (size, level, idx)){without_rowid}",
    "CREATE TABLE IF NOT EXISTS {ledger_state_snapshots} (originator_id {uuid} PRIMARY KEY, "
    "originator_version {bigint} NOT NULL, head {blob} NOT NULL, state {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {ledger_read_snapshots} (originator_id {uuid} PRIMARY KEY, "
    "originator_version {bigint} NOT NULL, head {blob} NOT NULL, body {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {ledger_read_snapshot_lines} (originator_id {uuid} NOT NULL, "
    "seq {bigint} NOT NULL, stretch {bigint} NOT NULL, effective_us {bigint} NOT NULL, "
    "from_us {bigint}, until_us {bigint}, body {blob} NOT NULL, "
    "PRIMARY KEY (originator_id, seq, stretch))",
    "CREATE INDEX IF NOT EXISTS ledger_read_snapshot_lines_effective "
    "ON {ledger_read_snapshot_lines} (originator_id, effective_us)",
)

AUDIT: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {ledger_verifications} ("
    "finished_us {bigint} NOT NULL, "
    "outcome text NOT NULL CHECK (outcome IN ('ok', 'failed')), "
    "records {bigint} NOT NULL, checkpoint_size {bigint}, first_bad_position {bigint}, "
    "reason text)",
    "CREATE INDEX IF NOT EXISTS ledger_verifications_finished "
    "ON {ledger_verifications} (finished_us)",
    "CREATE TABLE IF NOT EXISTS {ledger_reports} ("
    "report_id text PRIMARY KEY, subject text NOT NULL, issued_us {bigint} NOT NULL, "
    "as_of text NOT NULL, known_at text NOT NULL, sha256 text NOT NULL)",
)

PERSON_KEYS: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {ledger_person_keys} (person_key_id text PRIMARY KEY, "
    "key {blob}, created_us {bigint} NOT NULL, erased_us {bigint})",
    "CREATE TABLE IF NOT EXISTS {ledger_person_index} (lookup text PRIMARY KEY, "
    "person_key_id text NOT NULL, number_enc text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ledger_person_index_key ON {ledger_person_index} (person_key_id)",
    "CREATE TABLE IF NOT EXISTS {ledger_person_secret} (id integer PRIMARY KEY, "
    "fingerprint text NOT NULL)",
    "INSERT INTO {ledger_person_secret} (id, fingerprint) VALUES (1, '') "
    "ON CONFLICT (id) DO NOTHING",
)

VIEWS: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS {view_standing} ("
    "subject text PRIMARY KEY, last_seq {bigint} NOT NULL, notification_id {bigint} NOT NULL, "
    "as_of_us {bigint} NOT NULL, next_change_us {bigint}, grade text NOT NULL, "
    "score {bigint} NOT NULL, body text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {view_disclosure} ("
    "subject text NOT NULL, seq {bigint} NOT NULL, event_id text NOT NULL, "
    "kind text NOT NULL, public_from text, public_until text, body text NOT NULL, "
    "PRIMARY KEY (subject, seq))",
    "CREATE INDEX IF NOT EXISTS view_disclosure_public "
    "ON {view_disclosure} (public_from, public_until)",
    "CREATE TABLE IF NOT EXISTS {view_list_members} ("
    "list_name text NOT NULL, subject text NOT NULL, event_id text NOT NULL, "
    "seq {bigint} NOT NULL, valid_from_us {bigint} NOT NULL, valid_until_us {bigint}, "
    "known_from_us {bigint} NOT NULL, known_until_us {bigint}, body text NOT NULL, "
    "PRIMARY KEY (subject, seq, valid_from_us, known_from_us))",
    "CREATE INDEX IF NOT EXISTS view_list_members_by_list "
    "ON {view_list_members} (list_name, valid_from_us)",
    "CREATE TABLE IF NOT EXISTS {view_failed_subjects} ("
    "subject text PRIMARY KEY, event_id text NOT NULL, notification_id {bigint} NOT NULL, "
    "error text NOT NULL, failed_at_us {bigint} NOT NULL)",
    # The history's reads of one subject by recording time.
    "CREATE INDEX IF NOT EXISTS ledger_records_subject_time "
    "ON {ledger_records} (originator_id, recorded_us)",
)
