"""The checkpoint log outside the database (issue 16, item 4), on both stores.

Every checkpoint ``ledger checkpoint`` signs lands in ``LEDGER_CHECKPOINT_LOG`` as
``<size>-<issued_us>.json``; ``ledger verify`` checks the store against that log (or a
checkpoint given with ``--checkpoint``); ``ledger checkpoint`` refuses to sign a tree that
is not consistent with it. The attack of the issue: rewrite a subject's history, recompute
every hash and Merkle node, delete the checkpoint rows: the store then verifies against
itself, and must fail against the log.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.read_side import LedgerViews, NotAvailable
from entrypoints.bootstrap import bootstrap, checkpoint_log
from entrypoints.cli import main
from entrypoints.settings import Settings
from ledger import chain
from ledger.app import Ledger
from ledger.audit.checkpoint_log import CheckpointLog, parse_checkpoint
from ledger.audit.checkpoints import latest_checkpoint
from ledger.audit.keys import load_or_create_key, public_key_bytes
from ledger.audit.verify import verify_store
from ledger.store import describe
from ledger.store.audit_reads import STORED_MIN_LEVEL
from ledger.store.tables import (
    CHECKPOINTS_TABLE,
    EVENTS_TABLE,
    HEAD_NODES_TABLE,
    HEADS_TABLE,
    MERKLE_TABLE,
)
from tests.integration.audit_support import load_demo, random_events, subject_codes, submit
from tests.integration.kafka_broker import (
    Broker,
    free_port,
    kafka_broker,  # noqa: F401  (the fixture)
)


@pytest.fixture
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Key files in ``tmp_path``, the log in ``tmp_path/log``; the demo data (12 subjects)."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", store_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    monkeypatch.setenv("LEDGER_CHECKPOINT_LOG", str(tmp_path / "log"))
    settings = Settings()
    ledger = bootstrap(settings)
    try:
        load_demo(ledger, subjects=12)
    finally:
        _close(ledger)
    return settings


@pytest.fixture
def opened(env: Settings) -> Iterator[Ledger]:
    ledger = bootstrap(env)
    yield ledger
    _close(ledger)


def _close(ledger: Ledger) -> None:
    ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@contextlib.contextmanager
def _serving(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on a free loopback port; the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _log(settings: Settings) -> CheckpointLog:
    log = checkpoint_log(settings)
    assert log is not None
    return log


def test_every_checkpoint_is_written_to_the_log(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["checkpoint"]) == 0
    names = _log(env).names()
    assert len(names) == 1
    size, issued, path = names[0]
    ledger = bootstrap(env)
    try:
        stored = latest_checkpoint(ledger.recorder)
        rng = random.Random(7)
        submit(ledger, random_events(rng, 30, subject_codes(3, 7), "more"))
        grown = ledger.size()
    finally:
        _close(ledger)
    assert grown > size
    assert stored is not None and (stored.size, stored.issued_us) == (size, issued)
    assert parse_checkpoint(path.read_bytes(), str(path)) == stored
    assert main(["checkpoint"]) == 0
    assert [n[0] for n in _log(env).names()] == [size, grown]
    assert not list(_log(env).directory.glob(".*"))  # nothing half-written left
    capsys.readouterr()
    assert main(["verify"]) == 0
    assert "consistent with 2 published checkpoints" in capsys.readouterr().err


def test_checkpoint_not_issued_when_the_log_cannot_be_written(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv("LEDGER_CHECKPOINT_LOG", str(blocker))
    assert main(["checkpoint"]) == 1
    assert "checkpoint log" in capsys.readouterr().err
    ledger = bootstrap(Settings())
    try:
        assert latest_checkpoint(ledger.recorder) is None
    finally:
        _close(ledger)


def _table(ledger: Ledger, name: str) -> str:
    """``name`` as the recorder qualifies it (PostgreSQL: with the schema)."""
    return ledger.recorder.store.table(name)


def _rewrite_history(ledger: Ledger, position: int) -> None:
    """The issue's attack: new data in the record at ``position``, the subject's chain
    rehashed from it, every stored Merkle node recomputed, the checkpoint rows deleted."""
    rec: Any = ledger.recorder
    events = _table(ledger, EVENTS_TABLE)
    with rec.store.locked_transaction() as cur:
        cur.execute(
            rec.store.sql(f"SELECT subject FROM {events} WHERE notification_id = %s"), (position + 1,)
        )
        subject = cur.fetchone()[0]
        cur.execute(
            rec.store.sql(
                "SELECT notification_id, originator_version, event_id, source, topic, time, "
                f"recorded_us, state, prev FROM {events} WHERE subject = %s AND "
                "notification_id > %s ORDER BY notification_id"
            ),
            (subject, position),
        )
        prev: bytes | None = None
        for nid, seq, eid, source, type_, time, rec_us, state, old_prev in cur.fetchall():
            state = bytes(state)
            if prev is None:
                data = orjson.loads(state)
                data["rewritten"] = "yes"
                state = chain.canonical(data)
                prev = bytes(old_prev)
            digest = chain.record_hash_bytes(
                chain.record_bytes(
                    subject=subject,
                    seq=seq,
                    position=nid - 1,
                    id=eid,
                    source=source,
                    type=type_,
                    time=time,
                    recorded_us=rec_us,
                    data_canonical=state,
                    prev=prev.hex(),
                )
            )
            cur.execute(
                rec.store.sql(
                    f"UPDATE {events} SET state = %s, prev = %s, hash = %s WHERE notification_id = %s"
                ),
                (state, prev, digest, nid),
            )
            prev = digest
        cur.execute(f"SELECT hash FROM {events} ORDER BY notification_id")
        level = [hashlib.sha256(b"\x00" + bytes(r[0])).digest() for r in cur.fetchall()]
        nodes = []
        for height in range(1, 64):
            level = [
                hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
                for i in range(0, len(level) - 1, 2)
            ]
            if not level:
                break
            if height >= STORED_MIN_LEVEL:
                nodes += [(height, i, h) for i, h in enumerate(level)]
        cur.execute(f"DELETE FROM {_table(ledger, MERKLE_TABLE)}")
        for node in nodes:
            cur.execute(
                rec.store.sql(
                    f"INSERT INTO {_table(ledger, MERKLE_TABLE)} (level, idx, hash) VALUES (%s, %s, %s)"
                ),
                node,
            )
        for table in (HEAD_NODES_TABLE, HEADS_TABLE, CHECKPOINTS_TABLE):
            cur.execute(f"DELETE FROM {_table(ledger, table)}")
    rec._frontier = None


def test_rewritten_store_without_checkpoint_rows_fails_against_the_log(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["checkpoint"]) == 0
    [(_, _, published)] = _log(env).names()
    ledger = bootstrap(env)
    try:
        _rewrite_history(ledger, position=5)
        # The attack works against the store alone: it verifies against itself.
        key = public_key_bytes(load_or_create_key(env.signing_key_file))
        alone = verify_store(ledger.recorder, public_key=key)
        assert alone.ok and alone.checkpoints == 0
    finally:
        _close(ledger)
    capsys.readouterr()

    assert main(["verify"]) == 1
    out, err = capsys.readouterr()
    assert "FAIL" in out and "published" in out and "rewritten" in out
    assert "FAILED" in err

    # Against one checkpoint given as a file, and the log left aside: the same verdict.
    copy = tmp_path / "published.json"
    copy.write_bytes(published.read_bytes())
    assert main(["verify", "--checkpoint", str(copy)]) == 1
    assert main(["verify", "--checkpoint", copy.as_uri()]) == 1
    capsys.readouterr()

    # ... or served over HTTP (another copy's /v1/checkpoints/latest).
    with _serving(copy.parent) as base:
        assert main(["verify", "--checkpoint", f"{base}/{copy.name}"]) == 1
        assert "published" in capsys.readouterr().out

    # And the forged state is not signed: not by the API when a bundle is asked for ...
    ledger = bootstrap(env)
    try:
        views = LedgerViews(
            ledger,
            signing_key=load_or_create_key(env.signing_key_file),
            origin=env.name,
            checkpoint_log=_log(env),
        )
        with pytest.raises(NotAvailable, match="forks-published-checkpoint"):
            views._checkpoint(None)
    finally:
        _close(ledger)
    # ... nor by `ledger checkpoint`.
    assert main(["checkpoint"]) == 1
    assert "forks-published-checkpoint" in capsys.readouterr().err
    assert len(_log(env).names()) == 1
    ledger = bootstrap(env)
    try:
        assert latest_checkpoint(ledger.recorder) is None
    finally:
        _close(ledger)


def test_a_store_behind_the_log_is_refused(
    env: Settings, opened: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records removed from the end (or an older backup restored) together with the
    checkpoint rows and Merkle nodes beyond: verify and checkpoint refuse."""
    assert main(["checkpoint"]) == 0
    rec: Any = opened.recorder
    keep = opened.size() - 20
    with rec.store.locked_transaction() as cur:
        cur.execute(rec.store.sql(f"DELETE FROM {rec.events_table} WHERE notification_id > %s"), (keep,))
        cur.execute(
            rec.store.sql(
                f"DELETE FROM {_table(opened, MERKLE_TABLE)} WHERE (idx + 1) * power(2, level) > %s"
            )
            if "postgres" in env.database_url
            else rec.store.sql(
                f"DELETE FROM {_table(opened, MERKLE_TABLE)} WHERE (idx + 1) << level > %s"
            ),
            (keep,),
        )
        for table in (HEAD_NODES_TABLE, HEADS_TABLE, CHECKPOINTS_TABLE):
            cur.execute(f"DELETE FROM {_table(opened, table)}")
    capsys.readouterr()
    assert main(["verify"]) == 1
    assert "missing" in capsys.readouterr().out
    assert main(["checkpoint"]) == 1
    assert "behind-published-checkpoint" in capsys.readouterr().err


def test_checkpoints_of_another_origin_are_not_held_against_the_store(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDGER_NAME", "old-origin")
    assert main(["checkpoint"]) == 0
    monkeypatch.setenv("LEDGER_NAME", "new-origin")
    capsys.readouterr()
    assert main(["verify"]) == 0
    assert "other origins" in capsys.readouterr().err


def test_default_log_is_beside_the_sqlite_file(tmp_path: Path) -> None:
    sqlite = Settings(
        database_url=f"sqlite:///{tmp_path / 'db' / 'ledger.db'}", checkpoint_log=None
    )
    assert _log(sqlite).directory == tmp_path / "db" / "checkpoints"
    pg = Settings(database_url="postgresql://x@h/db?schema=s1", checkpoint_log=None)
    assert _log(pg).directory == Path("checkpoints/db.s1")
    pg = Settings(database_url="postgresql://x@h/db", checkpoint_log=None)
    assert _log(pg).directory == Path("checkpoints/db.public")
    given = Settings(database_url="postgresql://x@h/db", checkpoint_log=tmp_path / "log")
    assert _log(given).directory == tmp_path / "log"
    memory = Settings(database_url="sqlite:///:memory:", checkpoint_log=None)
    assert checkpoint_log(memory) is None


def test_checkpoints_are_published_to_kafka(
    env: Settings,
    kafka_broker: Broker,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = f"credit.checkpoints.{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topics({topic: 1})
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", kafka_broker.bootstrap)
    monkeypatch.setenv("LEDGER_KAFKA_CHECKPOINT_TOPIC", topic)
    assert main(["checkpoint"]) == 0
    [(_, _, path)] = _log(env).names()
    [message] = kafka_broker.read_all(topic, 1)
    assert message.key == env.name.encode()
    assert parse_checkpoint(message.value, topic) == parse_checkpoint(path.read_bytes(), "file")

    if describe(env.database_url).kind != "sqlite":
        return  # the rest does not depend on the store
    # A broker that does not answer: the checkpoint stands in the log, the command says so.
    ledger = bootstrap(env)
    try:
        submit(ledger, random_events(random.Random(3), 10, subject_codes(2, 3), "k"))
    finally:
        _close(ledger)
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    capsys.readouterr()
    assert main(["checkpoint"]) == 1
    assert "not sent to Kafka" in capsys.readouterr().err
    assert len(_log(env).names()) == 2


def test_a_deleted_checkpoint_row_gives_a_clear_refusal(
    env: Settings, opened: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16, item 8: the only checkpoint row deleted (its head rows left), an audit
    bundle needs a new checkpoint of the same size: refused with a message, not an
    IntegrityError, and nothing is added to the log."""
    assert main(["checkpoint"]) == 0
    rec: Any = opened.recorder
    with rec.store.locked_transaction() as cur:
        cur.execute(f"SELECT subject FROM {rec.events_table} ORDER BY notification_id")
        code = cur.fetchone()[0]
        cur.execute(f"DELETE FROM {_table(opened, CHECKPOINTS_TABLE)}")
    capsys.readouterr()
    assert main(["audit-bundle", code, "-o", os.devnull]) == 1
    err = capsys.readouterr().err
    assert "cannot be stored" in err and "Traceback" not in err
    assert len(_log(env).names()) == 1
