"""``ledger.store.describe``: which database a URL names, without opening it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.audit.checkpoint_log import checkpoint_log_dir
from ledger.store import ConfigurationError, PostgresAddress, SQLiteAddress, describe


@pytest.mark.parametrize(
    ("url", "path", "in_memory"),
    [
        ("sqlite:///data/ledger.db", Path("data/ledger.db"), False),
        ("sqlite:////srv/ledger%20one.db", Path("/srv/ledger one.db"), False),
        ("sqlite:///:memory:", None, True),
        ("sqlite:///ledger.db?mode=memory", None, True),
        ("sqlite:///", None, False),
    ],
)
def test_sqlite_urls(url: str, path: Path | None, in_memory: bool) -> None:
    assert describe(url) == SQLiteAddress(path, in_memory)


def test_postgres_urls_with_their_defaults() -> None:
    assert describe("postgresql://u:p%40ss@db.example:6543/credit?schema=s1") == PostgresAddress(
        host="db.example", port=6543, user="u", password="p@ss", dbname="credit", schema="s1"
    )
    assert describe("postgres://") == PostgresAddress(
        host="127.0.0.1",
        port=5432,
        user="postgres",
        password="",
        dbname="postgres",
        schema="public",
    )


def test_another_scheme_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="the scheme must be sqlite or postgresql"):
        describe("mysql://localhost/ledger")


def test_the_default_checkpoint_log_follows_the_address() -> None:
    assert checkpoint_log_dir(None, "sqlite:///var/l.db") == Path("var/checkpoints")
    assert checkpoint_log_dir(None, "sqlite:///:memory:") is None
    assert checkpoint_log_dir(None, "postgresql:///credit?schema=a") == Path("checkpoints/credit.a")
    assert checkpoint_log_dir(Path("/x"), "sqlite:///:memory:") == Path("/x")
