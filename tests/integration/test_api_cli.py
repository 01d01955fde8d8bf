"""``ledger serve`` and ``ledger token add|list|revoke`` (entrypoints/cli/serve.py), through
``register(subparsers, bootstrap)`` as entrypoints/cli/__init__.py wires them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.cli.serve import register
from entrypoints.settings import Settings


def run(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="ledger")
    register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(argv)
    code: int = args.handler(args, settings)
    return code


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'l.db'}",
        tokens_file=tmp_path / "t.json",
        person_secret_file=tmp_path / "person.key",
        signing_key_file=tmp_path / "signing.key",
    )


def test_token_add_list_revoke(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["token", "add", "--role", "agency", "--agency", "samr/440300", "--json"], settings)
        == 0
    )
    added = orjson.loads(capsys.readouterr().out)
    token = added["token"]
    assert token.startswith("clt_") and added["agency"] == "samr/440300"
    stored = settings.tokens_file.read_text()
    assert token not in stored  # only the hash is kept
    assert oct(settings.tokens_file.stat().st_mode & 0o777) == "0o600"
    principal = TokenStore(settings.tokens_file).verify(token)
    assert principal is not None and principal.agency == "samr/440300"

    assert run(["token", "add", "--role", "auditor", "--name", "alice"], settings) == 0
    capsys.readouterr()
    assert run(["token", "list", "--json"], settings) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [e["role"] for e in listed] == ["agency", "auditor"]
    assert all("sha256" not in e and "token" not in e for e in listed)

    assert run(["token", "revoke", added["id"]], settings) == 0
    assert TokenStore(settings.tokens_file).verify(token) is None
    assert run(["token", "revoke", "nobody"], settings) == 2
    assert run(["token", "add", "--role", "agency"], settings) == 2  # needs --agency


def test_serve_builds_the_app_and_runs_uvicorn(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: Any, host: str, port: int, log_level: str) -> None:
        seen.update(app=app, host=host, port=port)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert run(["serve", "--port", "8123"], settings) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert "/v1/events" in seen["app"].openapi()["paths"]
