"""The ledger's checkpoint signing key (AUDIT-FORMAT.md, "Checkpoints").

The key file holds the raw 32-byte Ed25519 seed, base64, one line, mode 0600. The public key
is published as its raw 32 bytes, base64 (what ``tools/verify_bundle.py --public-key`` and
the bundle's ``public_key`` take).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import sys
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["KeyFileError", "load_or_create_key", "public_key_b64", "public_key_bytes"]


class KeyFileError(ValueError):
    """The key file exists but cannot be used; the message says which file and why."""


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of ``key``."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The published form of the public key: base64 of its raw 32 bytes."""
    return base64.b64encode(public_key_bytes(key)).decode("ascii")


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        text = path.read_bytes().strip()
    except OSError as e:
        raise KeyFileError(f"signing key {path}: cannot read: {e.strerror}") from e
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:
        raise KeyFileError(
            f"signing key {path}: expected the base64 of a raw 32-byte Ed25519 seed on one line"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_or_create_key(path: Path | str, *, stderr: TextIO | None = None) -> Ed25519PrivateKey:
    """Load the signing key from ``path``, creating it on first use.

    A missing file is created with a fresh key (``O_EXCL``, mode 0600, parent directories
    made) and a message on ``stderr`` (default ``sys.stderr``) says where it was written and
    what the public key is. If another process creates the file at the same moment, its key
    is used. An existing file readable by group or others gets a warning, not a refusal.

    Raises:
        KeyFileError: the file exists but is unreadable or not a base64 32-byte seed.
    """
    path = Path(path)
    err = stderr if stderr is not None else sys.stderr
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path)
        except OSError as e:
            raise KeyFileError(f"signing key {path}: cannot create: {e.strerror}") from e
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64encode(_seed(key)) + b"\n")
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        print(
            f"ledger: generated a new Ed25519 checkpoint signing key in {path.resolve()} "
            f"(mode 0600; keep it secret and back it up). Public key: {public_key_b64(key)}",
            file=err,
        )
        return key
    key = _read(path)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            print(
                f"ledger: warning: signing key {path} is readable by group or others "
                f"(chmod 600 {path})",
                file=err,
            )
    return key
