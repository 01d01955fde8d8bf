"""A restore that cannot lose the ledger (issue 16, item 5), on both stores.

An empty, a foreign, a truncated and a bit-flipped backup, a backup whose copy does not
verify, and one older than the checkpoint log are each refused with exit 1 and the reason,
and the live ledger is afterwards exactly what it was and ``ledger verify`` passes. A good
backup replaces a populated ledger with ``--force``; on SQLite a live file another process
holds open is not replaced under it.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from ledger.backup import BackupError, restore
from ledger.backup_file import MAGIC
from ledger.store import describe
from ledger.store.tables import EVENTS_TABLE
from tests.integration.audit_support import load_demo, random_events, subject_codes, submit


@pytest.fixture
def live(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The demo ledger (12 subjects) with a checkpoint in the log; key files in tmp_path."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", store_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    monkeypatch.setenv("LEDGER_CHECKPOINT_LOG", str(tmp_path / "log"))
    settings = Settings()
    ledger = bootstrap(settings)
    try:
        load_demo(ledger, subjects=12)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    assert main(["checkpoint"]) == 0
    return settings


def _connect(settings: Settings, *, autocommit: bool = False) -> tuple[Any, str]:
    """A connection to the live ledger's database (closed on leaving it) and the prefix
    naming its tables in statements."""
    address = describe(settings.database_url)
    if address.kind == "sqlite":
        assert address.path is not None
        return contextlib.closing(sqlite3.connect(address.path)), ""
    connection = psycopg.connect(
        host=address.host,
        port=address.port,
        user=address.user,
        password=address.password or None,
        dbname=address.dbname,
        autocommit=autocommit,
    )
    return connection, f'"{address.schema}".'


def _rows(settings: Settings) -> list[Any]:
    """Every record row of the live ledger, in position order."""
    connection, prefix = _connect(settings)
    with connection as conn:
        return list(conn.execute(f"SELECT * FROM {prefix}{EVENTS_TABLE} ORDER BY notification_id"))


def _intact(settings: Settings, before: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert _rows(settings) == before
    capsys.readouterr()
    assert main(["verify"]) == 0, capsys.readouterr()
    assert "OK:" in capsys.readouterr().err


def _no_copies_left(settings: Settings) -> None:
    address = describe(settings.database_url)
    if address.kind == "sqlite":
        live = address.path
        assert live is not None and not list(live.parent.glob(f".{live.name}.restore-*"))
        return
    connection, _ = _connect(settings)
    with connection as conn:
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"{address.schema}_restore_%",),
        ).fetchall()
    assert left == []


def _bad_backup(kind: str, good: Path, tmp_path: Path) -> Path:
    data = good.read_bytes()
    bad = tmp_path / f"{kind}.backup"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "foreign":
        bad.write_bytes(b'{"not": "a backup"}\n' * 100)
    elif kind == "truncated":
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "bit-flipped":
        flipped = bytearray(data)
        at = random.Random(kind).randrange(len(data) // 4, len(data) - 16)
        flipped[at] ^= 0x10
        bad.write_bytes(bytes(flipped))
    elif kind == "damaged-header":
        bad.write_bytes(data.replace(b'"sha256":"', b'"sha256":"0', 1))
    else:  # a bare dump of the store's tool, as written before backups had a header
        raw = bytearray(data.split(b"\n", 2)[2])
        if kind == "legacy-truncated":
            raw = raw[: len(raw) * 2 // 3]
        else:
            raw[len(raw) // 2] ^= 0x10
        bad.write_bytes(bytes(raw))
    return bad


WHY = {
    "empty": "empty",
    "foreign": "not a credit-ledger backup",
    "truncated": "truncated",
    "bit-flipped": "SHA-256",
    "damaged-header": "header",
    "legacy-truncated": "",
    "legacy-bit-flipped": "",
}
"""The refusal names the damage; a bare dump is refused by loading or verifying its copy."""


@pytest.mark.parametrize("kind", list(WHY))
def test_a_damaged_or_foreign_backup_leaves_the_live_ledger_intact(
    live: Settings, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.backup"
    assert main(["backup", str(good)]) == 0
    assert good.read_bytes().startswith(MAGIC)
    before = _rows(live)
    bad = _bad_backup(kind, good, tmp_path)
    capsys.readouterr()
    assert main(["restore", str(bad), "--force"]) == 1
    err = capsys.readouterr().err
    assert WHY[kind] in err
    assert "refusing to restore" in err or ("does not verify" in err and "not touched" in err)
    _intact(live, before, capsys)
    _no_copies_left(live)


def test_a_backup_that_does_not_verify_leaves_the_live_ledger_intact(
    live: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file is sound but its ledger was tampered with before the backup."""
    good, tampered = tmp_path / "good.backup", tmp_path / "tampered.backup"
    assert main(["backup", str(good)]) == 0
    _tamper(live)
    assert main(["backup", str(tampered)]) == 0
    assert main(["restore", str(good), "--force"]) == 0  # back to the good state
    before = _rows(live)
    capsys.readouterr()
    assert main(["restore", str(tampered), "--force"]) == 1
    out, err = capsys.readouterr()
    assert "FAIL" in out and "does not verify" in err and "not touched" in err
    _intact(live, before, capsys)
    _no_copies_left(live)


def _tamper(settings: Settings) -> None:
    connection, prefix = _connect(settings, autocommit=True)
    with connection as conn:
        conn.execute(
            f"UPDATE {prefix}{EVENTS_TABLE} SET source = source || 'x' WHERE notification_id = 17"
        )
        conn.commit()


def test_a_good_backup_replaces_a_populated_ledger(
    live: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "ledger.backup"
    assert main(["backup", str(backup)]) == 0
    before = _rows(live)
    _tamper(live)  # the live ledger went bad; the backup brings it back
    capsys.readouterr()
    assert main(["verify"]) == 1
    assert main(["restore", str(backup)]) == 1  # populated: --force needed
    assert "refusing to restore" in capsys.readouterr().err
    assert main(["restore", str(backup), "--force"]) == 0
    assert "restored" in capsys.readouterr().err
    _intact(live, before, capsys)
    _no_copies_left(live)


def test_a_backup_older_than_the_checkpoint_log_needs_accept_rollback(
    live: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.backup"
    assert main(["backup", str(old)]) == 0
    ledger = bootstrap(live)
    try:
        submit(ledger, random_events(random.Random(5), 20, subject_codes(3, 5), "later"))
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    assert main(["checkpoint"]) == 0
    before = _rows(live)
    capsys.readouterr()
    assert main(["restore", str(old), "--force"]) == 1
    assert "behind-published-checkpoint" in capsys.readouterr().out
    _intact(live, before, capsys)

    assert main(["restore", str(old), "--force", "--accept-rollback"]) == 0
    assert len(_rows(live)) < len(before)
    capsys.readouterr()
    assert main(["checkpoint"]) == 1  # it cannot sign again until it holds those records
    assert "behind-published-checkpoint" in capsys.readouterr().err


def test_a_live_sqlite_file_in_use_is_not_replaced(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection holds a read transaction on the live WAL file: its frames cannot be
    checkpointed, so the file is not swapped under it."""
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    settings = Settings(database_url=sqlite_url)
    ledger = bootstrap(settings)
    try:
        load_demo(ledger, subjects=4)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    backup = tmp_path / "b.backup"
    assert main(["--database-url", sqlite_url, "backup", str(backup)]) == 0
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = _rows(settings)
    reader = sqlite3.connect(path, isolation_level=None)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        reader.execute("BEGIN")
        reader.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
        writer.execute("CREATE TABLE scratch (x)")  # a frame the reader's snapshot pins
        with pytest.raises(BackupError, match="in use"):
            restore(sqlite_url, backup, force=True)
    finally:
        reader.close()
        writer.close()
    assert _rows(settings) == before
    assert restore(sqlite_url, backup, force=True) == len(before)
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
