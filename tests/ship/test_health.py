"""Start-up and liveness checks the containers rely on: a key file the service user
cannot read stops every service at start-up with a message naming the file; ``ledger
healthcheck`` fails when the worker's heartbeat file is missing or stale."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from entrypoints.bootstrap import ConfigurationError, bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from ledger import heartbeat


@pytest.fixture(autouse=True)
def _no_heartbeat() -> object:
    yield
    heartbeat.configure(None)


def _settings(tmp_path: Path, **kw: object) -> Settings:
    base: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'ledger.db'}",
        "signing_key_file": tmp_path / "signing.key",
        "person_secret_file": tmp_path / "person.key",
        "tokens_file": tmp_path / "tokens.json",
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("variable", "field"),
    [("LEDGER_SIGNING_KEY_FILE", "signing_key_file"), ("LEDGER_PERSON_SECRET_FILE", "person_secret_file")],
)
def test_an_unreadable_key_file_stops_start_up_naming_it(
    tmp_path: Path, variable: str, field: str
) -> None:
    unreadable = tmp_path / "secrets" / "key"
    unreadable.mkdir(parents=True)  # a directory: unreadable as a file, even for root
    with pytest.raises(ConfigurationError) as caught:
        bootstrap(_settings(tmp_path, **{field: unreadable}))
    message = str(caught.value)
    assert variable in message and str(unreadable) in message and "cannot read" in message


def test_the_command_line_reports_an_unreadable_key_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unreadable = tmp_path / "signing.key"
    unreadable.mkdir()
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(unreadable))
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    code = main(["--database-url", f"sqlite:///{tmp_path / 'l.db'}", "lists", "focus"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ledger: LEDGER_SIGNING_KEY_FILE") and str(unreadable) in err
    assert "Traceback" not in err


def test_missing_key_files_do_not_stop_start_up(tmp_path: Path) -> None:
    """They are created on first use (a new store's first checkpoint or person)."""
    settings = _settings(tmp_path)
    assert bootstrap(settings).size() == 0
    assert not settings.signing_key_file.exists()


def _healthcheck(monkeypatch: pytest.MonkeyPatch, path: Path | None, *args: str) -> int:
    if path is None:
        monkeypatch.delenv("LEDGER_HEARTBEAT_FILE", raising=False)
    else:
        monkeypatch.setenv("LEDGER_HEARTBEAT_FILE", str(path))
    return main(["healthcheck", *args])


def test_healthcheck_follows_the_heartbeat_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beat = tmp_path / "run" / "heartbeat"
    assert _healthcheck(monkeypatch, beat) == 1  # the worker never started
    heartbeat.configure(beat)
    assert beat.exists()
    assert _healthcheck(monkeypatch, beat, "--max-age", "60") == 0
    past = time.time() - 600
    os.utime(beat, (past, past))  # the loop stopped going round ten minutes ago
    assert _healthcheck(monkeypatch, beat, "--max-age", "60") == 1
    assert _healthcheck(monkeypatch, beat, "--max-age", "900") == 0
    assert _healthcheck(monkeypatch, None) == 2


def test_a_periodic_job_waiting_for_its_next_run_keeps_beating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beat = tmp_path / "heartbeat"
    heartbeat.configure(beat)
    past = time.time() - 600
    os.utime(beat, (past, past))
    monkeypatch.setattr(heartbeat, "INTERVAL_S", 0.0)  # no write throttle
    stop = threading.Event()
    stop.set()
    assert heartbeat.wait(stop, 3600) is True  # returns at once when stopped...
    age = heartbeat.age_s(beat)
    assert age is not None and age < 60  # ...having refreshed the file first
