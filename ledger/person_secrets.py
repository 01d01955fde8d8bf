"""The person secret: the HMAC key of the index from identity numbers to person
key ids (``ledger.sealing``), kept in a file outside the database and rotated —
the old secret overwritten — at every erasure.

The file holds one hex secret a line, the current one first; only during a
rotation does it hold more (the new one first, the old ones until every index row
is re-keyed). Every write replaces the file atomically (a temporary file, fsync,
rename) and then overwrites the replaced file's bytes with zeros: best effort, since
a copy-on-write file system, a snapshot or a backup may keep them. Processes re-read
the file whenever it changes, so a rotation by ``ledger erase-person`` reaches a
running ``serve`` or ``ingest`` at its next use of the secret.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["PersonSecrets", "fingerprint", "load_secret"]


def fingerprint(secret: bytes) -> str:
    """A public name of a secret (reveals nothing of it): which secret keys the index."""
    return hashlib.sha256(b"credit-ledger person secret:" + secret).hexdigest()[:16]


class PersonSecrets:
    """The HMAC secrets of the person index, the current one first.

    Backed by ``path`` (one hex secret of at least 16 bytes a line; created with
    one random secret, mode 0600, on first use; re-read whenever the file
    changes, so every process follows a rotation) or, without a path, held in
    memory. Only during a rotation does it hold more than one secret: the new one
    first, the old ones until every index row is re-keyed.
    """

    def __init__(self, path: Path | None = None, initial: Sequence[bytes] = ()) -> None:
        self.path = Path(path) if path is not None else None
        self._secrets: tuple[bytes, ...] = tuple(initial)
        self._stamp: tuple[int, int, int] | None = None
        if self.path is None and not self._secrets:
            self._secrets = (secrets.token_bytes(32),)

    def all(self) -> tuple[bytes, ...]:
        """Every secret held, current first (the file re-read if it changed)."""
        if self.path is not None:
            self._reload(self.path)
        return self._secrets

    @property
    def current(self) -> bytes:
        return self.all()[0]

    def by_fingerprint(self, name: str) -> bytes | None:
        return next((s for s in self.all() if fingerprint(s) == name), None)

    def _reload(self, path: Path) -> None:
        if not path.exists():
            self._write([secrets.token_bytes(32)], exclusive=True)
        stat = path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        found = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                secret = bytes.fromhex(line.strip())
            except ValueError:
                raise ValueError(f"{path}: line {number} is not a hex secret") from None
            if len(secret) < 16:
                raise ValueError(f"{path}: the person secret must hold at least 16 bytes (hex)")
            found.append(secret)
        if not found:
            raise ValueError(f"{path}: holds no person secret")
        self._secrets, self._stamp = tuple(found), stamp

    def _write(self, values: Sequence[bytes], *, exclusive: bool = False) -> None:
        """Replace the file atomically with ``values``; the replaced file's bytes are
        overwritten with zeros after the swap (best effort: a copy-on-write file
        system or a snapshot may keep them)."""
        if self.path is None:
            self._secrets = tuple(values)
            return
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(v.hex() + "\n" for v in values).encode()
        if exclusive:
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, text)
            os.fsync(fd)
        finally:
            os.close(fd)
        old = os.open(path, os.O_RDWR) if path.exists() else None
        try:
            os.replace(tmp, path)
            _fsync_dir(path.parent)
            if old is not None:
                os.pwrite(old, b"\0" * os.fstat(old).st_size, 0)
                os.fsync(old)
        finally:
            if old is not None:
                os.close(old)
        self._stamp = None

    def begin_rotation(self) -> bytes:
        """Put a new random secret first (the old ones stay until :meth:`end_rotation`)."""
        new = secrets.token_bytes(32)
        self._write([new, *self.all()])
        return new

    def end_rotation(self, keep: bytes) -> None:
        """Keep only ``keep``: every other secret is destroyed."""
        self._write([keep])

    @contextlib.contextmanager
    def rotation_lock(self) -> Iterator[None]:
        """Serialises rotations between processes (a lock file beside the secret)."""
        if self.path is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_secret(path: Path) -> bytes:
    """The current person secret in ``path`` (created if the file does not exist)."""
    return PersonSecrets(path).current
