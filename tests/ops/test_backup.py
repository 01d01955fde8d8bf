"""``ledger backup`` / ``ledger restore``: a PostgreSQL round trip through pg_dump and
pg_restore (wipe in between) verifies and gives back identical records and checkpoints;
a backup whose restored copy is tampered with does not verify; a SQLite round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from ledger.audit.checkpoints import issue_checkpoint, latest_checkpoint
from ledger.audit.keys import public_key_b64
from ledger.store.tables import CHECKPOINTS_TABLE, EVENTS_TABLE
from tests.integration.audit_support import load_demo

KEY_SEED = bytes(range(32))


def _loaded(url: str, tmp_path: Path) -> tuple[Settings, str]:
    """The demo ledger (20 subjects) with a checkpoint; settings and the public key."""
    key = Ed25519PrivateKey.from_private_bytes(KEY_SEED)
    settings = Settings(database_url=url, person_secret_file=tmp_path / "person.key")
    ledger = bootstrap(settings)
    try:
        load_demo(ledger, subjects=20)
        assert ledger.size() >= 200
        issue_checkpoint(ledger.recorder, key, "test", ledger.clock())
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    return settings, public_key_b64(key)


def _pg_dump_rows(url: str) -> tuple[list[Any], list[Any]]:
    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        records = conn.execute(
            f'SELECT * FROM "{schema}".{EVENTS_TABLE} ORDER BY notification_id'
        ).fetchall()
        checkpoints = conn.execute(
            f'SELECT * FROM "{schema}".{CHECKPOINTS_TABLE} ORDER BY size'
        ).fetchall()
    return records, checkpoints


def _wipe(url: str) -> None:
    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')


@pytest.mark.postgres
def test_postgres_round_trip_verifies_and_is_identical(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, public = _loaded(postgres_url, tmp_path)
    before = _pg_dump_rows(postgres_url)
    dump = tmp_path / "ledger.dump"
    db = ["--database-url", postgres_url]

    assert main([*db, "backup", str(dump)]) == 0
    assert dump.stat().st_size > 0
    # A populated target is refused without --force.
    assert main([*db, "restore", str(dump), "--public-key", public]) == 1
    assert "refusing to restore" in capsys.readouterr().err

    _wipe(postgres_url)
    assert main([*db, "restore", str(dump), "--public-key", public]) == 0
    err = capsys.readouterr().err
    assert "OK:" in err and "next:" in err
    assert _pg_dump_rows(postgres_url) == before

    # --force replaces a populated ledger.
    assert main([*db, "restore", str(dump), "--force", "--public-key", public]) == 0
    assert _pg_dump_rows(postgres_url) == before

    # One tampered record in the restored copy: verify fails, exit 1.
    base, schema = postgres_url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{schema}\".{EVENTS_TABLE} SET source = source || 'x' "
            f"WHERE notification_id = 17"
        )
    tampered = tmp_path / "tampered.dump"
    assert main([*db, "backup", str(tampered)]) == 0
    _wipe(postgres_url)
    capsys.readouterr()
    assert main([*db, "restore", str(tampered), "--public-key", public]) == 1
    out, err = capsys.readouterr()
    assert "FAIL" in out and "FAILED" in err


@pytest.mark.postgres
def test_postgres_restore_into_another_schema(postgres_url: str, tmp_path: Path) -> None:
    """The dump's schema is renamed as it is loaded: a backup restores under another name
    while its own schema is live, and leaves that one alone."""
    _, public = _loaded(postgres_url, tmp_path)
    before = _pg_dump_rows(postgres_url)
    dump = tmp_path / "ledger.dump"
    assert main(["--database-url", postgres_url, "backup", str(dump)]) == 0
    base, schema = postgres_url.split("?schema=")
    other = f"{base}?schema={schema}_copy"
    try:
        assert main(["--database-url", other, "restore", str(dump), "--public-key", public]) == 0
        assert _pg_dump_rows(other) == before
        assert _pg_dump_rows(postgres_url) == before
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}_copy" CASCADE')


def test_sqlite_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    settings, public = _loaded(url, tmp_path)
    ledger = bootstrap(settings)
    size = ledger.size()
    cp = latest_checkpoint(ledger.recorder)
    ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    backup_file = tmp_path / "backup.db"
    assert main(["--database-url", url, "backup", str(backup_file)]) == 0

    target = f"sqlite:///{tmp_path / 'restored.db'}"
    assert (
        main(["--database-url", target, "restore", str(backup_file), "--public-key", public]) == 0
    )
    assert "OK:" in capsys.readouterr().err
    restored = bootstrap(Settings(database_url=target, person_secret_file=tmp_path / "person.key"))
    try:
        assert restored.size() == size
        assert latest_checkpoint(restored.recorder) == cp
    finally:
        restored.recorder.datastore.close()  # type: ignore[attr-defined]

    assert main(["--database-url", target, "restore", str(backup_file)]) == 1
    assert "refusing to restore" in capsys.readouterr().err
    assert main(["--database-url", target, "restore", str(backup_file), "--force"]) == 0
