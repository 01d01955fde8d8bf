"""``ledger backup FILE`` and ``ledger restore FILE``.

PostgreSQL: ``pg_dump --format=custom --schema=SCHEMA`` of the ledger's schema (the URL's
``?schema=``, default ``public``): the records, the Merkle nodes, the checkpoints, the
tracking and the materialised views, consistent as of one snapshot. ``restore`` replays it
with ``pg_restore`` into the target URL's schema (renamed if the backup was of another
schema). SQLite: the sqlite3 online backup API (consistent while writers run) to FILE;
``restore`` copies it back the same way.

A restore refuses a target ledger that already holds records unless ``--force`` (which
replaces everything in the target schema or file). After it, ``--verify`` (the default)
rechecks the whole restored store and its checkpoints (``ledger verify``) and exits 1 if it
does not verify. The person secret (``LEDGER_PERSON_SECRET_FILE``) and the signing key are
not in the database: back them up separately. Every restore re-applies the erasure log
(``LEDGER_ERASURE_LOG``, :mod:`ledger.erasures`), so no erased person comes back.

Exit status: 0 done; 1 refused, the tool failed, or the restored store does not verify;
2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
from psycopg import sql

from ledger import progress
from ledger.app import Ledger
from ledger.recorders import EVENTS_TABLE
from ledger.settings import Settings

__all__ = ["BackupError", "PgTarget", "backup", "register", "restore"]

Bootstrap = Callable[[Settings], Ledger]


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

    @classmethod
    def from_url(cls, url: str) -> PgTarget:
        p = urlparse(url)
        return cls(
            host=p.hostname or "127.0.0.1",
            port=p.port or 5432,
            user=unquote(p.username or "postgres"),
            password=unquote(p.password or ""),
            dbname=unquote(p.path.lstrip("/")) or "postgres",
            schema=parse_qs(p.query).get("schema", ["public"])[0],
        )

    def tool_args(self) -> list[str]:
        return ["--host", self.host, "--port", str(self.port), "--username", self.user]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=self.dbname,
            autocommit=True,
        )


def _sqlite_path(url: str) -> Path:
    p = urlparse(url)
    path = unquote(p.path[1:] if p.path.startswith("/") else p.path)
    if not path or path == ":memory:":
        raise BackupError(f"{url!r}: an in-memory or unnamed SQLite store cannot be backed up")
    return Path(path)


def _kind(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    raise BackupError(f"{url!r}: the scheme must be sqlite or postgresql")


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


def backup(url: str, file: Path) -> int:
    """Write a consistent backup of the ledger at ``url`` to ``file``; returns the number
    of records in it."""
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    if _kind(url) == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"{source}: no such SQLite ledger")
        tmp = file.with_name(file.name + ".part")
        tmp.unlink(missing_ok=True)
        with (
            contextlib_closing(sqlite3.connect(source)) as src,
            contextlib_closing(sqlite3.connect(tmp)) as dst,
        ):
            _copy_pages(src, dst, "backup")
        os.replace(tmp, file)
        return _sqlite_size(file)
    target = PgTarget.from_url(url)
    size = _pg_size(target, target.schema)
    if size is None:
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
            str(file),
        ],
        target.env(),
        watch=lambda _pid: progress.bytes_growing("backup", progress.file_size(file)),
    )
    return size


class contextlib_closing:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _sqlite_size(path: Path) -> int:
    with contextlib_closing(sqlite3.connect(path)) as conn:
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


def restore(url: str, file: Path, *, force: bool = False) -> int:
    """Replace the ledger at ``url`` with the backup ``file``; returns its record count.
    Refuses (:class:`BackupError`) a target holding records unless ``force``."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    if _kind(url) == "sqlite":
        return _restore_sqlite(_sqlite_path(url), file, force=force)
    return _restore_postgres(PgTarget.from_url(url), file, force=force)


def after_restore(settings: Settings) -> None:
    """The final step of every restore, run once the verified copy is live: what must be
    re-applied to a ledger brought back from a backup goes here (e.g. erasures recorded in
    their log outside the database after the backup was taken). Raises on failure; the
    restored ledger stays live either way."""
    from ledger.erasures import reapply_erasures

    try:
        erased = reapply_erasures(settings)  # a restore never brings an erased person back
    except OSError as e:
        raise BackupError(
            f"the ledger is restored, but the erasure log {settings.erasure_log} could not be "
            f"re-applied ({e}): fix that and run `ledger restore` again, or `ledger "
            "erase-person --key-id` for each logged key id, before starting the services"
        ) from e
    if erased.logged:
        print(
            f"re-applied {erased.logged} logged person erasure(s) from {settings.erasure_log} "
            f"({erased.destroyed} key(s) destroyed again); person secret rotated",
            file=sys.stderr,
        )


def _refuse(where: str, size: int) -> BackupError:
    return BackupError(
        f"refusing to restore: {where} already holds a ledger of {size:,} records; "
        "restore into an empty schema or database, or pass --force to REPLACE it"
    )


def _restore_sqlite(target: Path, file: Path, *, force: bool) -> int:
    if target.exists() and target.stat().st_size > 0:
        size = _sqlite_size(target)
        if size and not force:
            raise _refuse(str(target), size)
    try:
        records = _sqlite_size(file)
        with contextlib_closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as src:
            src.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{file}: not a SQLite ledger backup: {e}") from e
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib_closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as src,
        contextlib_closing(sqlite3.connect(target)) as dst,
    ):
        _copy_pages(src, dst, "restore")  # replaces every page of the target, WAL-safe
    return records


def _copy_pages(src: sqlite3.Connection, dst: sqlite3.Connection, desc: str) -> None:
    """The SQLite online backup API, 1,024 pages a step, with a progress bar."""
    with progress.bar(None, desc, unit="page") as shown:

        def step(status: int, remaining: int, total: int) -> None:
            shown.total = total
            shown.n = total - remaining
            shown.refresh()

        src.backup(dst, pages=1024, progress=step)


def _dumped_schema(file: Path, target: PgTarget) -> str:
    toc = _run(["pg_restore", "--list", str(file)], target.env())
    for line in toc.splitlines():
        parts = line.split()
        # "216; 1259 16385 TABLE myschema ledger_records postgres"
        if "TABLE" in parts:
            i = parts.index("TABLE")
            if len(parts) > i + 2 and parts[i + 2] == EVENTS_TABLE:
                return parts[i + 1]
    raise BackupError(f"{file}: not a ledger backup (no {EVENTS_TABLE} table in it)")


def _restore_postgres(target: PgTarget, file: Path, *, force: bool) -> int:
    source = _dumped_schema(file, target)
    size = _pg_size(target, target.schema)
    if size and not force:
        raise _refuse(f"schema {target.schema!r} of database {target.dbname!r}", size)
    if source != target.schema and _schema_exists(target, source):
        raise BackupError(
            f"the backup is of schema {source!r}, which exists in {target.dbname!r}; it is "
            f"restored under that name and then renamed to {target.schema!r}: drop or rename "
            f"{source!r} first"
        )
    with target.connect() as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(target.schema))
        )
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(source)))
    # Restore every entry but the schema itself (created above; pg_dump may or may not
    # emit it, e.g. for ``public``), in one transaction.
    toc = _run(["pg_restore", "--list", str(file)], target.env())
    kept = [line for line in toc.splitlines() if " SCHEMA - " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as listing:
        listing.write("\n".join(kept) + "\n")
    try:
        _run(
            [
                "pg_restore",
                *target.tool_args(),
                "--dbname",
                target.dbname,
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--use-list",
                listing.name,
                str(file),
            ],
            target.env(),
            watch=lambda pid: progress.bytes_growing(
                "restore", progress.process_read_bytes(pid), file.stat().st_size
            ),
        )
    finally:
        os.unlink(listing.name)
    if source != target.schema:
        with target.connect() as conn:
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(source), sql.Identifier(target.schema)
                )
            )
    return _pg_size(target, target.schema) or 0


def _schema_exists(target: PgTarget, schema: str) -> bool:
    with target.connect() as conn:
        row = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    return row is not None


# -- commands ----------------------------------------------------------------------------


def register(subparsers: Any, bootstrap: Bootstrap) -> None:
    """Add ``backup`` and ``restore`` to the ``ledger`` parser."""
    p = subparsers.add_parser("backup", help="write a consistent backup of the ledger to FILE")
    p.add_argument("file", type=Path, help="PostgreSQL: a pg_dump custom-format file")
    p.set_defaults(handler=cmd_backup)

    p = subparsers.add_parser("restore", help="replace the ledger with a backup, then verify it")
    p.add_argument("file", type=Path, help="a file written by `ledger backup`")
    p.add_argument(
        "--force", action="store_true", help="replace a target that already holds records"
    )
    p.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="recheck the restored store and its checkpoints (default: on)",
    )
    p.add_argument(
        "--public-key",
        help="the ledger's public key (base64 or a file); default: from the signing key file",
    )
    p.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    try:
        size = backup(settings.database_url, args.file)
    except BackupError as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 1
    print(
        f"backup of {size:,} records written to {args.file} "
        f"({args.file.stat().st_size:,} bytes) in {time.perf_counter() - started:.1f} s; "
        "back up the person secret and the signing key separately",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    try:
        size = restore(settings.database_url, args.file, force=args.force)
        after_restore(settings)
    except BackupError as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 1
    print(
        f"restored {size:,} records from {args.file} in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    code = 0
    if args.verify:
        code = verify_restored(settings, args.public_key)
    print(
        "next: make sure LEDGER_PERSON_SECRET_FILE and LEDGER_SIGNING_KEY_FILE are the ones "
        "of the backed-up ledger, then start the services (serve, ingest, project, tick); "
        "the views were restored with the ledger (`ledger rebuild` if in doubt); ingestion "
        "resumes from the restored tracking positions",
        file=sys.stderr,
    )
    return code


def verify_restored(settings: Settings, public_key: str | None) -> int:
    """``ledger verify`` of the restored store, naming its latest checkpoint."""
    from ledger.audit.checkpoints import latest_checkpoint
    from ledger.audit.cli import _trusted_key
    from ledger.audit.verify import verify_store
    from ledger.bootstrap import open_recorder

    recorder = open_recorder(settings.database_url, pool_size=1)
    try:
        report = verify_store(recorder, public_key=_trusted_key(public_key, settings))
        latest = latest_checkpoint(recorder)
    finally:
        close = getattr(getattr(recorder, "datastore", None), "close", None)
        if close is not None:
            close()
    for warning in report.warnings:
        print(f"ledger: warning: {warning}", file=sys.stderr)
    if latest is None:
        print("ledger: warning: the backup holds no checkpoint to verify against", file=sys.stderr)
    else:
        print(f"latest checkpoint: size {latest.size:,}, root {latest.root}", file=sys.stderr)
    if report.failure is not None:
        print(f"FAIL: {report.failure.describe()}")
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1
