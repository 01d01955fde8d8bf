"""Tampering with the stored ledger on PostgreSQL: ``verify`` must fail every time and name
the tampered record (or, for a chain rewritten consistently with its hashes, the group of
at most 16 records the tree commits to that contains it).

100 seeded trials, 20 of each kind, each on fresh data in one reused schema (tables are
truncated between trials): a few hundred records over a few dozen subjects, appended in
batches with a checkpoint after the second and the third batch and a few records after the
last checkpoint; the tampered record always lies before the last checkpoint.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from events.codes import subject_stream_id
from ledger import chain
from ledger.app import Ledger
from ledger.audit.checkpoints import Checkpoint, issue_checkpoint
from ledger.audit.keys import public_key_bytes
from ledger.audit.verify import verify_store
from ledger.audit.verify_outcome import Failure
from ledger.store.tables import (
    CHECKPOINTS_TABLE,
    EVENTS_TABLE,
    HEAD_NODES_TABLE,
    HEADS_TABLE,
    MERKLE_TABLE,
)
from tests.integration.audit_support import postgres_schema, random_events, subject_codes, submit

pytestmark = pytest.mark.postgres

TRIALS = 100
SEED = 20261122
KINDS = ("byte", "delete", "swap", "insert", "rewrite")
COLUMNS = (
    "state",
    "hash",
    "prev",
    "time",
    "source",
    "event_id",
    "subject",
    "topic",
    "recorded_us",
    "originator_version",
    "time_us",
    "originator_id",
)


@dataclass
class Store:
    url: str
    schema: str
    ledger: Ledger
    conn: psycopg.Connection[Any]
    key: Ed25519PrivateKey

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}'

    def row(self, position: int) -> dict[str, Any]:
        cur = self.conn.execute(
            f"SELECT * FROM {self.table(EVENTS_TABLE)} WHERE notification_id = %s",
            (position + 1,),
        )
        assert cur.description is not None
        values = cur.fetchone()
        assert values is not None
        return dict(zip([d.name for d in cur.description], values, strict=True))

    def update(self, position: int, **values: Any) -> None:
        sets = ", ".join(f"{k} = %s" for k in values)
        self.conn.execute(
            f"UPDATE {self.table(EVENTS_TABLE)} SET {sets} WHERE notification_id = %s",
            (*values.values(), position + 1),
        )


@pytest.fixture(scope="module")
def store(postgres_base: str) -> Iterator[Store]:
    with postgres_schema(postgres_base) as url:
        ledger = bootstrap(Settings(database_url=url))
        schema = url.rsplit("schema=", 1)[1]
        with psycopg.connect(postgres_base, autocommit=True) as conn:
            yield Store(url, schema, ledger, conn, Ed25519PrivateKey.generate())
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _fresh(store: Store, rng: random.Random, trial: int) -> Checkpoint:
    """Empty the tables and build a new ledger; returns the last checkpoint."""
    tables = (EVENTS_TABLE, MERKLE_TABLE, CHECKPOINTS_TABLE, HEADS_TABLE, HEAD_NODES_TABLE)
    store.conn.execute("TRUNCATE " + ", ".join(store.table(t) for t in tables))
    recorder = store.ledger.recorder
    recorder._frontier = None  # the recorder's cached frontier belongs to the old data
    store.ledger = Ledger(recorder, rules=store.ledger.rules)
    subjects = subject_codes(rng.randint(20, 40), SEED + trial)
    events = random_events(rng, rng.randint(240, 380), subjects, f"t{trial}")
    cuts = sorted(rng.sample(range(40, len(events) - 20), 2))
    last: Checkpoint | None = None
    for i, (a, b) in enumerate(
        zip([0, *cuts], [*cuts, len(events) - rng.randint(3, 15)], strict=True)
    ):
        submit(store.ledger, events[a:b])
        if i >= 1:
            last = issue_checkpoint(recorder, store.key, "tamper-test", 1_000 + i)
    submit(store.ledger, events[b:])  # a tail after the last checkpoint
    assert last is not None
    return last


def _flip(value: Any, rng: random.Random) -> Any:
    """``value`` with one byte or character changed (integers: off by one)."""
    if isinstance(value, bytes):
        i = rng.randrange(len(value))
        return value[:i] + bytes([value[i] ^ (1 << rng.randrange(8))]) + value[i + 1 :]
    if isinstance(value, uuid.UUID):
        return uuid.UUID(bytes=_flip(value.bytes, rng))
    if isinstance(value, int):
        return value + rng.choice((-1, 1))
    i = rng.randrange(len(value))
    new = rng.choice([c for c in "QXZ" if c != value[i]])
    return value[:i] + new + value[i + 1 :]


def _tamper_byte(store: Store, rng: random.Random, p: int, column: str) -> tuple[str, ...]:
    value = store.row(p)[column]
    # one byte of the stored value, keeping the unique keys unique: (stream, seq) and
    # (event_id, source) must not collide with another record's
    new = value + (1 << 24) if column == "originator_version" else _flip(value, rng)
    store.update(p, **{column: new})
    return {"time_us": ("time",), "originator_id": ("stream",)}.get(column, ("hash",))


def _tamper_delete(store: Store, rng: random.Random, p: int) -> tuple[str, ...]:
    store.conn.execute(
        f"DELETE FROM {store.table(EVENTS_TABLE)} WHERE notification_id = %s", (p + 1,)
    )
    return ("position",)


def _tamper_swap(store: Store, rng: random.Random, p: int, q: int) -> tuple[str, ...]:
    """The contents of positions p < q trade places."""
    t = store.table(EVENTS_TABLE)
    store.conn.execute(f"UPDATE {t} SET notification_id = -1 WHERE notification_id = %s", (p + 1,))
    store.conn.execute(
        f"UPDATE {t} SET notification_id = %s WHERE notification_id = %s", (p + 1, q + 1)
    )
    store.conn.execute(f"UPDATE {t} SET notification_id = %s WHERE notification_id = -1", (q + 1,))
    return ("hash",)


def _tamper_insert(store: Store, rng: random.Random, p: int) -> tuple[str, ...]:
    """A forged record of a new subject, well formed and chained, inserted at position p
    (the records from p on move up by one)."""
    t = store.table(EVENTS_TABLE)
    store.conn.execute(
        f"UPDATE {t} SET notification_id = -notification_id WHERE notification_id > %s", (p,)
    )
    store.conn.execute(
        f"UPDATE {t} SET notification_id = 1 - notification_id WHERE notification_id < 0"
    )
    subject = subject_codes(1, rng.randrange(10**9) + 7)[0]
    model = store.row(p + 1)
    data = {"category": "certificate", "description": "forged 伪造"}
    state = chain.canonical(data)
    fields: dict[str, Any] = {
        "subject": subject,
        "seq": 1,
        "position": p,
        "id": f"forged-{p}",
        "source": model["source"],
        "type": "credit.registration.submitted",
        "time": model["time"],
        "recorded_us": model["recorded_us"],
        "prev": chain.GENESIS,
    }
    digest = chain.record_hash_bytes(chain.record_bytes(**fields, data_canonical=state))
    store.conn.execute(
        f"INSERT INTO {t} (notification_id, originator_id, originator_version, topic, state, "
        "subject, source, event_id, time, time_us, recorded_us, schema_version, hash, prev) "
        "VALUES (%s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s)",
        (
            p + 1,
            subject_stream_id(subject),
            fields["type"],
            state,
            subject,
            fields["source"],
            fields["id"],
            fields["time"],
            model["time_us"],
            fields["recorded_us"],
            digest,
            bytes(32),
        ),
    )
    return ("position",)


def _tamper_rewrite(store: Store, rng: random.Random, p: int) -> tuple[str, ...]:
    """Record p gets new data, and its subject's chain is rewritten consistently from it:
    every later record of the subject gets the new prev and a recomputed hash."""
    t = store.table(EVENTS_TABLE)
    subject = store.row(p)["subject"]
    rows = store.conn.execute(
        f"SELECT notification_id FROM {t} WHERE subject = %s AND notification_id > %s "
        "ORDER BY notification_id",
        (subject, p + 1),
    ).fetchall()
    prev: bytes | None = None
    for position in [p, *(r[0] - 1 for r in rows)]:
        row = store.row(position)
        state = bytes(row["state"])
        if position == p:
            data = orjson.loads(state)
            data["tampered"] = "yes"
            state = chain.canonical(data)
        new_prev = bytes(row["prev"]) if prev is None else prev
        digest = chain.record_hash_bytes(
            chain.record_bytes(
                subject=subject,
                seq=row["originator_version"],
                position=position,
                id=row["event_id"],
                source=row["source"],
                type=row["topic"],
                time=row["time"],
                recorded_us=row["recorded_us"],
                data_canonical=state,
                prev=new_prev.hex(),
            )
        )
        store.update(position, state=state, prev=new_prev, hash=digest)
        prev = digest
    return ("tree", "checkpoint")


def _expect(failure: Failure | None, p: int, checks: tuple[str, ...], trial: str) -> None:
    assert failure is not None, f"{trial}: tampering went unnoticed"
    assert failure.check in checks, f"{trial}: {failure.describe()}"
    assert failure.position is not None and failure.position <= p <= (failure.last or -1), (
        f"{trial}: tampered position {p}, named {failure.describe()}"
    )


def test_verify_catches_every_tampering(store: Store) -> None:
    started = time.perf_counter()
    rng = random.Random(SEED)
    public = public_key_bytes(store.key)
    done: dict[str, int] = {}
    named: dict[str, int] = {}
    for trial in range(TRIALS):
        kind = KINDS[trial % len(KINDS)]
        cp = _fresh(store, rng, trial)
        clean = verify_store(store.ledger.recorder, public_key=public)
        assert clean.ok, clean.summary()
        p, q = sorted(rng.sample(range(cp.size), 2))
        if kind == "rewrite" and trial // len(KINDS) % 2 and cp.size % 16:
            # in the leaves below the stored levels: only the checkpoint's root covers them
            p = rng.randrange(cp.size - cp.size % 16, cp.size)
        before = store.row(p)
        column = None
        if kind == "byte":
            column = rng.choice(COLUMNS)
            checks = _tamper_byte(store, rng, p, column)
        elif kind == "swap":
            checks = _tamper_swap(store, rng, p, q)
        else:
            checks = {
                "delete": _tamper_delete,
                "insert": _tamper_insert,
                "rewrite": _tamper_rewrite,
            }[kind](store, rng, p)
        label = f"trial {trial}: {kind} {column or ''} at position {p}"
        failure = verify_store(store.ledger.recorder, public_key=public).failure
        _expect(failure, p, checks, label)
        assert failure is not None
        if kind != "rewrite":  # the record itself is named
            assert failure.position == p and failure.last_position is None, label
        if kind == "byte":  # ... with the identity it had, except for the column changed
            assert failure.subject == before["subject"] or column == "subject", label
            assert failure.event_id == before["event_id"] or column == "event_id", label
        done[kind] = done.get(kind, 0) + 1
        named[f"{kind}/{column or ''}->{failure.check}"] = (
            named.get(f"{kind}/{column or ''}->{failure.check}", 0) + 1
        )
    elapsed = time.perf_counter() - started
    assert done == {k: TRIALS // len(KINDS) for k in KINDS}
    print(f"\n{TRIALS} tamper trials in {elapsed:.1f} s: {done}")
    print("\n".join(f"  {k}: {v}" for k, v in sorted(named.items())))
