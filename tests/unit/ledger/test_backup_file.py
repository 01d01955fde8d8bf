"""The backup file's header and checks (``ledger.backup_file``), and the schema renaming
of a PostgreSQL dump's SQL (``ledger.backup``), without a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.backup import _schema_renamer
from ledger.backup_file import MAGIC, BackupFileError, open_backup, write_backup


def _written(tmp_path: Path, payload: bytes = b"PGDMP" + bytes(range(256)) * 40) -> Path:
    raw = tmp_path / "raw"
    raw.write_bytes(payload)
    file = tmp_path / "ledger.backup"
    write_backup(raw, file, store="postgresql", records=7, schema="s1", now_us=1)
    return file


def test_round_trip_gives_back_the_payload_and_header(tmp_path: Path) -> None:
    file = _written(tmp_path)
    out = tmp_path / "out"
    contents = open_backup(file, out)
    assert out.read_bytes() == (tmp_path / "raw").read_bytes()
    assert (contents.store, contents.records, contents.schema) == ("postgresql", 7, "s1")
    assert not contents.legacy
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda d: b"", "empty"),
        (lambda d: b"hello, world\n" * 10, "not a credit-ledger backup"),
        (lambda d: d[: len(d) - 100], "truncated"),
        (lambda d: d + b"x", "appended"),
        (lambda d: d[:-50] + bytes([d[-50] ^ 1]) + d[-49:], "SHA-256"),
        (lambda d: MAGIC + b"{not json\n" + d[len(MAGIC) :], "header"),
        (lambda d: d.replace(b'"records":7', b'"records":-7'), "header"),
    ],
    ids=["empty", "foreign", "truncated", "appended", "bit-flipped", "bad-json", "bad-field"],
)
def test_damaged_files_are_refused(tmp_path: Path, damage: object, why: str) -> None:
    file = _written(tmp_path)
    file.write_bytes(damage(file.read_bytes()))  # type: ignore[operator]
    with pytest.raises(BackupFileError, match=why):
        open_backup(file, tmp_path / "out")


def test_bare_dumps_are_accepted_as_legacy(tmp_path: Path) -> None:
    for name, data, store in [
        ("a.dump", b"PGDMP\x01\x0e\x00rest", "postgresql"),
        ("a.db", b"SQLite format 3\x00" + bytes(100), "sqlite"),
    ]:
        file = tmp_path / name
        file.write_bytes(data)
        contents = open_backup(file, tmp_path / "out")
        assert contents.legacy and contents.store == store
        assert (tmp_path / "out").read_bytes() == data


def test_the_schema_is_renamed_where_it_qualifies_a_name() -> None:
    rename = _schema_renamer("t_abc", "t_abc_restore_1")
    assert rename(b"CREATE TABLE t_abc.ledger_records (\n") == (
        b'CREATE TABLE "t_abc_restore_1".ledger_records (\n'
    )
    assert rename(b"SELECT pg_catalog.setval('t_abc.seq', 3, true);\n") == (
        b"SELECT pg_catalog.setval('\"t_abc_restore_1\".seq', 3, true);\n"
    )
    # Another schema whose name ends or starts the same, and the bare word, stay.
    for line in (b"CREATE TABLE xt_abc.t (\n", b"-- Schema: t_abc\n", b"ON t_abcd.t\n"):
        assert rename(line) == line
    quoted = _schema_renamer("Mixed Case", "new")
    assert quoted(b'ALTER TABLE ONLY "Mixed Case".t\n') == b'ALTER TABLE ONLY "new".t\n'
