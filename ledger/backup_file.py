"""The backup file: a store's dump with a header that lets a restore refuse, before it
touches anything, a file that is empty, foreign, truncated or altered.

Layout (``credit-ledger-backup/1``)::

    credit-ledger-backup/1\\n
    {"bytes": N, "created_us": …, "records": n, "schema": "…"|null, "sha256": "<hex>",
     "store": "postgresql"|"sqlite"}\\n
    <N bytes of payload>

The payload is what the store's own tool wrote: a ``pg_dump --format=custom`` file for
PostgreSQL, a SQLite database file (online backup API) for SQLite. ``sha256`` is the
SHA-256 of the payload; nothing may follow it.

:func:`open_backup` reads a file and checks the header, the length and the digest while
it copies the payload out (one pass). Files written before this format existed (a bare
pg_dump custom-format file, a bare SQLite file) are accepted as *legacy*: nothing can be
checked before the restore, so the restore's verification is all that stands between them
and the live ledger (:mod:`ledger.backup` never installs an unverified copy).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson
from tqdm import tqdm

from ledger import progress

__all__ = ["MAGIC", "BackupFileError", "Contents", "open_backup", "write_backup"]

MAGIC = b"credit-ledger-backup/1\n"
PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_MAX = 4096
CHUNK = 1 << 20

Store = Literal["postgresql", "sqlite"]


class BackupFileError(ValueError):
    """The file is not a usable backup; the message says why (refused, exit 1)."""


@dataclass(frozen=True)
class Contents:
    """A checked backup: what its header says (``legacy``: a bare dump without one)."""

    store: Store
    records: int | None
    schema: str | None
    created_us: int | None
    legacy: bool


def write_backup(
    payload: Path, file: Path, *, store: Store, records: int, schema: str | None, now_us: int
) -> None:
    """Write ``file`` (atomically: ``FILE.part``, fsync, rename) from the ``payload`` the
    store's tool wrote; ``payload`` is left in place for the caller to delete."""
    digest = hashlib.sha256()
    size = payload.stat().st_size
    with open(payload, "rb") as src, _bar(size, "hash") as bar:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    header = {
        "bytes": size,
        "created_us": now_us,
        "records": records,
        "schema": schema,
        "sha256": digest.hexdigest(),
        "store": store,
    }
    part = file.with_name(file.name + ".part")
    with open(part, "wb") as out, open(payload, "rb") as src, _bar(size, "write") as bar:
        out.write(MAGIC + orjson.dumps(header, option=orjson.OPT_SORT_KEYS) + b"\n")
        while chunk := src.read(CHUNK):
            out.write(chunk)
            bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    os.replace(part, file)


def open_backup(file: Path, payload: Path) -> Contents:
    """Check ``file`` and copy its payload to ``payload``; what the header says.

    Raises:
        BackupFileError: the file is empty, not a backup (foreign), its header is damaged,
            it is shorter or longer than its header says (truncated), or its payload does
            not hash to the header's digest (altered).
    """
    try:
        size = file.stat().st_size
        with open(file, "rb") as src:
            start = src.read(len(MAGIC))
            if not start:
                raise BackupFileError(f"{file}: the file is empty: not a backup")
            if start == MAGIC:
                return _copy_checked(file, src, size, payload)
            legacy = _legacy_kind(start)
            if legacy is None:
                raise BackupFileError(
                    f"{file}: not a credit-ledger backup (no {MAGIC.strip().decode()} header, "
                    "and not a pg_dump custom-format or SQLite file)"
                )
            src.seek(0)
            with open(payload, "wb") as out:
                _copy(src, out, size)
            return Contents(legacy, None, None, None, legacy=True)
    except OSError as e:
        raise BackupFileError(f"{file}: cannot read the backup: {e}") from e


def _legacy_kind(start: bytes) -> Store | None:
    if start.startswith(PG_MAGIC):
        return "postgresql"
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    return None


def _copy_checked(file: Path, src: BinaryIO, size: int, payload: Path) -> Contents:
    line = src.readline(HEADER_MAX)
    try:
        header: Any = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise BackupFileError(f"{file}: the backup's header is damaged ({e})") from e
    if not (
        isinstance(header, dict)
        and header.get("store") in ("postgresql", "sqlite")
        and _count(header.get("bytes"))
        and _count(header.get("records"))
        and isinstance(header.get("sha256"), str)
        and re.fullmatch(r"[0-9a-f]{64}", header["sha256"])
        and (header.get("schema") is None or isinstance(header.get("schema"), str))
    ):
        raise BackupFileError(f"{file}: the backup's header is damaged")
    expected = len(MAGIC) + len(line) + header["bytes"]
    if size != expected:
        raise BackupFileError(
            f"{file}: the backup is {size:,} bytes, its header says {expected:,}: "
            + ("truncated" if size < expected else "something was appended")
        )
    digest = hashlib.sha256()
    with open(payload, "wb") as out:
        _copy(src, out, header["bytes"], digest)
    if digest.hexdigest() != header["sha256"]:
        raise BackupFileError(
            f"{file}: the backup's contents do not match its SHA-256 ({digest.hexdigest()}, "
            f"header: {header['sha256']}): the file was altered or damaged"
        )
    return Contents(
        header["store"],
        header["records"],
        header.get("schema"),
        header.get("created_us"),
        legacy=False,
    )


def _count(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _copy(src: BinaryIO, out: BinaryIO, size: int, digest: Any = None) -> None:
    with _bar(size, "read") as bar:
        while chunk := src.read(CHUNK):
            if digest is not None:
                digest.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())


def _bar(total: int, desc: str) -> tqdm[Any]:
    """Progress in bytes, shown only on a terminal."""
    return progress.bar(total, desc, unit="B", unit_scale=True)
