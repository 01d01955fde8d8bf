"""``ledger backup FILE`` and ``ledger restore FILE``: backups that a restore can check, and
a restore that cannot lose the ledger.

A backup file (:mod:`ledger.backup_file`) is the store's own dump behind a header with its
length and SHA-256: for PostgreSQL ``pg_dump --format=custom --schema=SCHEMA`` of the
ledger's schema (the URL's ``?schema=``, default ``public``): the records, the Merkle nodes,
the checkpoints, the tracking and the materialised views, consistent as of one snapshot;
for SQLite a copy made with the online backup API (consistent while writers run).

A restore never writes over the live ledger until the restored copy has proved itself:

1. the file is checked (an empty, foreign, truncated or altered file is refused);
2. it is restored beside the live ledger: PostgreSQL into a new schema (the dump's SQL
   with the schema renamed, loaded by ``psql`` in one transaction), SQLite into a new file
   in the same directory;
3. the copy is verified there: the whole-store recheck (``ledger verify``) and the check
   against the checkpoint log (:mod:`ledger.audit.checkpoint_log`);
4. only then it is swapped in atomically: PostgreSQL renames the schemas and drops the
   replaced one in one transaction; SQLite checkpoints the live file's WAL and
   ``os.replace``-s the file (its ``-wal``/``-shm`` removed);
5. the caller's after-restore step runs on the live, restored ledger
   (:func:`entrypoints.cli.backup.after_restore`): the one place for what must be
   re-applied to a ledger brought back from a backup.

If any step before the swap fails, the copy is removed, the live ledger is as it was, and
the command exits 1 with the reason. A target ledger that already holds records is
refused unless ``--force``. A backup older than the newest checkpoint in the checkpoint log
is refused unless ``--accept-rollback`` (AUDIT-FORMAT.md, "Rollback": the ledger then cannot
sign until it holds those records again). The person secret (``LEDGER_PERSON_SECRET_FILE``)
and the signing key are not in the database: back them up separately. Every restore
re-applies the erasure log (``LEDGER_ERASURE_LOG``, :mod:`ledger.erasures`) as its final
step, so no erased person comes back. The command line (``register``, ``cmd_backup``,
``cmd_restore``, the check of the restored copy) is :mod:`entrypoints.cli.backup`; this
module takes URLs, files and the client tools' environment as values. Stop the services before a restore.

Exit status: 0 done; 1 refused, the tool failed, or the restored copy does not verify (the
live ledger untouched); 2 bad usage.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from ledger import progress
from ledger.backup_file import BackupFileError, Contents, open_backup, write_backup
from ledger.store import ConfigurationError, SQLiteAddress, StoreAddress, describe
from ledger.store.tables import EVENTS_TABLE

__all__ = ["BackupError", "Check", "PgTarget", "backup", "restore"]


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why (exit 1)."""


# -- targets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """The connection parameters and schema of a ``postgresql://`` ledger URL."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The environment the client tools run in (PATH, locale, PG* variables), given by
    the caller: this module reads no environment of its own."""

    @classmethod
    def from_url(cls, url: str, environ: Mapping[str, str] | None = None) -> PgTarget:
        """The target of a ``postgresql://`` URL (``ledger.store.describe``);
        :class:`BackupError` for any other URL."""
        address = _address(url)
        if address.kind != "postgres":
            raise BackupError(f"{url!r} is not a PostgreSQL URL")
        return cls(
            host=address.host,
            port=address.port,
            user=address.user,
            password=address.password,
            dbname=address.dbname,
            schema=address.schema,
            environ=dict(environ or {}),
        )

    def tool_args(self) -> list[str]:
        return ["--host", self.host, "--port", str(self.port), "--username", self.user]

    def env(self) -> dict[str, str]:
        env = dict(self.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def url_of(self, schema: str) -> str:
        """The ``postgresql://`` URL of ``schema`` in the same database."""
        auth = quote(self.user, safe="") + (
            f":{quote(self.password, safe='')}" if self.password else ""
        )
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(self.dbname, safe='')}?schema={quote(schema, safe='')}"

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=self.dbname,
            autocommit=True,
        )


def _address(url: str) -> StoreAddress:
    """The database ``url`` names; :class:`BackupError` if it names none we know."""
    try:
        return describe(url)
    except ConfigurationError as e:
        raise BackupError(str(e)) from e


def _sqlite_file(url: str, address: SQLiteAddress) -> Path:
    """The file of a SQLite ledger; :class:`BackupError` for one in memory or unnamed."""
    if address.path is None:
        raise BackupError(f"{url!r}: an in-memory or unnamed SQLite store cannot be backed up")
    return address.path


def _run(
    cmd: list[str],
    env: dict[str, str],
    *,
    watch: Callable[[Callable[[], int | None]], AbstractContextManager[None]] | None = None,
) -> str:
    """Run a PostgreSQL client tool; its standard output. ``watch(pid)``, if given, is
    entered while it runs (a progress bar: :mod:`ledger.progress`)."""
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} not found on PATH (install the PostgreSQL client tools)")
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with watch(lambda: process.pid if process.poll() is None else None) if watch else nullcontext():
        stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({process.returncode}): {stderr.strip()}")
    return stdout


# -- backup ------------------------------------------------------------------------------


def backup(
    url: str,
    file: Path,
    *,
    now_us: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Write a consistent backup of the ledger at ``url`` to ``file`` (atomically); returns
    the number of records in it. ``environ`` is the environment ``pg_dump`` runs in (its
    PATH and PG* variables; the caller's settings give it)."""
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    payload = file.with_name(file.name + ".dump.tmp")
    payload.unlink(missing_ok=True)
    now = time.time_ns() // 1000 if now_us is None else now_us
    address = _address(url)
    try:
        if address.kind == "sqlite":
            source = _sqlite_file(url, address)
            if not source.exists():
                raise BackupError(f"{source}: no such SQLite ledger")
            with (
                contextlib.closing(sqlite3.connect(source)) as src,
                contextlib.closing(sqlite3.connect(payload)) as dst,
            ):
                _copy_pages(src, dst, "backup")
                # One self-contained file: no WAL beside it (the ledger turns WAL on again).
                dst.execute("PRAGMA journal_mode=DELETE")
                size = int(dst.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0])
            write_backup(payload, file, store="sqlite", records=size, schema=None, now_us=now)
            return size
        target = PgTarget.from_url(url, environ)
        pg_size = _pg_size(target, target.schema)
        if pg_size is None:
            raise BackupError(f"schema {target.schema!r} of {target.dbname!r} holds no ledger")
        _run(
            [
                "pg_dump",
                *target.tool_args(),
                "--dbname",
                target.dbname,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--schema",
                target.schema,
                "--file",
                str(payload),
            ],
            target.env(),
            watch=lambda _pid: progress.bytes_growing("backup", progress.file_size(payload)),
        )
        write_backup(
            payload, file, store="postgresql", records=pg_size, schema=target.schema, now_us=now
        )
        return pg_size
    finally:
        for path in (payload, *_sidecars(payload)):
            path.unlink(missing_ok=True)


def _copy_pages(src: sqlite3.Connection, dst: sqlite3.Connection, desc: str) -> None:
    """The SQLite online backup API, 1,024 pages a step, with a progress bar."""
    with progress.bar(None, desc, unit="page") as shown:

        def step(status: int, remaining: int, total: int) -> None:
            shown.total = total
            shown.n = total - remaining
            shown.refresh()

        src.backup(dst, pages=1024, progress=step)


def _sqlite_size(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            row = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
        except sqlite3.DatabaseError:
            return 0
    return int(row[0])


def _pg_size(target: PgTarget, schema: str) -> int | None:
    """Records in ``schema``'s ledger table, or None if there is no such table."""
    with target.connect() as conn:
        exists = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (schema, EVENTS_TABLE),
        ).fetchone()
        if not exists:
            return None
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
            )
        ).fetchone()
    assert row is not None
    return int(row[0])


# -- restore -----------------------------------------------------------------------------

Check = Callable[[str], str | None]
"""Verifies the restored copy at a store URL before it is swapped in: None if it may go
live, else the reason it may not."""


def restore(
    url: str,
    file: Path,
    *,
    force: bool = False,
    check: Check | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Replace the ledger at ``url`` with the backup ``file``; returns its record count.

    The backup is restored beside the live ledger, ``check``-ed there, and only then
    swapped in (module docstring). Raises :class:`BackupError` (the live ledger untouched)
    when the file is refused, the target holds records and not ``force``, the tools fail,
    or ``check`` gives a reason. ``environ``: the environment of the PostgreSQL client tools."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    address = _address(url)
    if address.kind == "sqlite":
        return _restore_sqlite(_sqlite_file(url, address), file, force=force, check=check)
    return _restore_postgres(PgTarget.from_url(url, environ), file, force=force, check=check)


def _refuse(where: str, size: int) -> BackupError:
    return BackupError(
        f"refusing to restore: {where} already holds a ledger of {size:,} records; "
        "restore into an empty schema or database, or pass --force to REPLACE it"
    )


def _opened(file: Path, payload: Path, store: str) -> Contents:
    try:
        contents = open_backup(file, payload)
    except BackupFileError as e:
        raise BackupError(f"refusing to restore: {e}") from e
    if contents.store != store:
        raise BackupError(
            f"refusing to restore: {file} is a {contents.store} backup, the target is {store}"
        )
    if contents.legacy:
        print(
            f"ledger: warning: {file} has no backup header (an older backup): it is checked "
            "only by verifying the restored copy",
            file=sys.stderr,
        )
    return contents


def _same_count(contents: Contents, records: int, file: Path) -> None:
    if contents.records is not None and contents.records != records:
        raise BackupError(
            f"refusing to restore: the restored copy holds {records:,} records, the backup "
            f"{file} says {contents.records:,}"
        )


def _checked(check: Check | None, url: str) -> None:
    try:
        reason = None if check is None else check(url)
    except Exception as e:  # a copy too damaged to read: refused like one that fails
        reason = f"it cannot be read: {e!r}"
    if reason is not None:
        raise BackupError(
            f"the restored copy does not verify ({reason}); it was removed and the live "
            "ledger was not touched"
        )


# SQLite


def _restore_sqlite(target: Path, file: Path, *, force: bool, check: Check | None) -> int:
    if target.exists() and target.stat().st_size > 0:
        size = _sqlite_size(target)
        if size and not force:
            raise _refuse(str(target), size)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:12]}")
    try:
        contents = _opened(file, staging, "sqlite")
        try:
            with contextlib.closing(sqlite3.connect(f"file:{staging}?mode=ro", uri=True)) as db:
                problems = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
                has_ledger = db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (EVENTS_TABLE,),
                ).fetchone()
        except sqlite3.DatabaseError as e:
            raise BackupError(
                f"refusing to restore: {file}: not a SQLite ledger backup: {e}"
            ) from e
        if problems != ["ok"]:
            raise BackupError(
                f"refusing to restore: {file}: the database is damaged: {problems[:3]}"
            )
        if not has_ledger:
            raise BackupError(
                f"refusing to restore: {file}: not a ledger backup (no {EVENTS_TABLE})"
            )
        records = _sqlite_size(staging)
        _same_count(contents, records, file)
        _checked(check, f"sqlite:///{staging}")
        _swap_sqlite(staging, target)
        return records
    finally:
        for path in (staging, *_sidecars(staging)):
            path.unlink(missing_ok=True)


def _sidecars(db: Path) -> tuple[Path, Path]:
    return db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")


def _swap_sqlite(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target``: the live file's WAL is checkpointed first
    (refused while another connection keeps frames in it), the file replaced atomically,
    the live file's ``-wal``/``-shm`` removed (they belong to the replaced database)."""
    wal, shm = _sidecars(target)
    if target.exists():
        with contextlib.closing(sqlite3.connect(target)) as conn:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy or (wal.exists() and wal.stat().st_size > 0):
            raise BackupError(
                f"{target} is in use by another process (its WAL cannot be emptied); stop the "
                "services and restore again; the live ledger was not touched"
            )
    os.replace(staging, target)
    wal.unlink(missing_ok=True)
    shm.unlink(missing_ok=True)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# PostgreSQL


def _dumped_schema(file: Path, target: PgTarget) -> tuple[str, str]:
    """The schema the dump ``file`` holds the ledger in, and its table of contents."""
    toc = _run(["pg_restore", "--list", str(file)], target.env())
    for line in toc.splitlines():
        parts = line.split()
        # "216; 1259 16385 TABLE myschema ledger_records postgres"
        if "TABLE" in parts:
            i = parts.index("TABLE")
            if len(parts) > i + 2 and parts[i + 2] == EVENTS_TABLE:
                return parts[i + 1], toc
    raise BackupError(f"refusing to restore: {file}: not a ledger backup (no {EVENTS_TABLE})")


def _restore_postgres(target: PgTarget, file: Path, *, force: bool, check: Check | None) -> int:
    size = _pg_size(target, target.schema)
    if size and not force:
        raise _refuse(f"schema {target.schema!r} of database {target.dbname!r}", size)
    staging = f"{target.schema[:40]}_restore_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="ledger-restore-") as tmp:
        payload = Path(tmp) / "backup.dump"
        contents = _opened(file, payload, "postgresql")
        try:
            source, toc = _dumped_schema(payload, target)
        except BackupError as e:
            raise BackupError(f"{e} ({file})") from e
        try:
            _load(target, payload, toc, source, staging, Path(tmp))
            records = _pg_size(target, staging) or 0
            _same_count(contents, records, file)
            _checked(check, target.url_of(staging))
            _swap_postgres(target, staging)
            return records
        except BaseException:
            with target.connect() as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging))
                )
            raise


def _load(target: PgTarget, payload: Path, toc: str, source: str, staging: str, tmp: Path) -> None:
    """Restore the dump into the new schema ``staging``: ``pg_restore`` writes the dump's
    SQL (every entry but the schema itself), in which the schema's name is replaced outside
    the data, and ``psql`` runs it in one transaction, stopping at the first error."""
    with target.connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
    listing = tmp / "restore.list"
    kept = [
        line
        for line in toc.splitlines()
        if " SCHEMA - " not in line and "COMMENT - SCHEMA " not in line
    ]
    listing.write_text("\n".join(kept) + "\n")
    for tool in ("pg_restore", "psql"):
        if shutil.which(tool) is None:
            raise BackupError(f"{tool} not found on PATH (install the PostgreSQL client tools)")
    rename = _schema_renamer(source, staging)
    errors = [tmp / "pg_restore.err", tmp / "psql.err"]
    with open(errors[0], "wb") as err1, open(errors[1], "wb") as err2:
        dump = subprocess.Popen(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--use-list",
                str(listing),
                "--file",
                "-",
                str(payload),
            ],
            stdout=subprocess.PIPE,
            stderr=err1,
            env=target.env(),
        )
        load = subprocess.Popen(
            [
                "psql",
                *target.tool_args(),
                "--dbname",
                target.dbname,
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set",
                "ON_ERROR_STOP=1",
                "--file",
                "-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err2,
            env=target.env(),
        )
        assert dump.stdout is not None and load.stdin is not None
        in_data = False
        shown = 0
        bar = progress.bar(None, "load", unit="B", unit_scale=True)
        try:
            for line in dump.stdout:
                if in_data:
                    in_data = line != b"\\.\n"
                else:
                    in_data = line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;")
                    line = rename(line)
                load.stdin.write(line)
                shown += len(line)
                if shown >= 1 << 20:
                    bar.update(shown)
                    shown = 0
        except BrokenPipeError:
            pass  # psql stopped at an error: its status and message say which
        finally:
            bar.close()
            with contextlib.suppress(BrokenPipeError):
                load.stdin.close()
            dump.stdout.close()
            dumped, loaded = dump.wait(), load.wait()
    if dumped != 0 or loaded != 0:
        tool, path = ("pg_restore", errors[0]) if dumped != 0 else ("psql", errors[1])
        message = path.read_text(errors="replace").strip()[-2000:]
        raise BackupError(
            f"refusing to restore: the backup could not be loaded ({tool} failed: {message}); "
            "the live ledger was not touched"
        )


def _schema_renamer(source: str, staging: str) -> Callable[[bytes], bytes]:
    """A function that replaces the schema ``source`` by ``staging`` where it qualifies a
    name in a line of pg_dump's SQL (``source.t``, ``"Source".t``, ``'source.seq'``)."""
    forms = [re.escape('"' + source.replace('"', '""') + '"')]
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", source):
        forms.append(re.escape(source))
    pattern = re.compile(rb'(?<![\w"$])(?:' + "|".join(forms).encode() + rb")\.", flags=re.ASCII)
    replacement = ('"' + staging.replace('"', '""') + '".').encode()
    return lambda line: pattern.sub(replacement, line)


def _swap_postgres(target: PgTarget, staging: str) -> None:
    """In one transaction: the live schema renamed aside, the restored one renamed to the
    live name, the old one dropped."""
    aside = f"{staging}_replaced"
    with target.connect() as conn, conn.transaction():
        live = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (target.schema,)
        ).fetchone()
        if live:
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(target.schema), sql.Identifier(aside)
                )
            )
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(staging), sql.Identifier(target.schema)
            )
        )
        if live:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(aside)))
