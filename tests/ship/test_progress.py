"""Long commands show a progress bar when a person watches (standard error is a
terminal) and none in pipes and logs: rebuild, project catching up, verify, backup and
restore run under a pseudo-terminal and through a pipe; the ingester's catch-up observer
passes lag figures on and closes its bar once caught up."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from ledger.progress import CatchUp

ROOT = Path(__file__).resolve().parents[2]
LEDGER = str(Path(sys.executable).parent / "ledger")
BAR = re.compile(r"\d+%\|.*\|")


def _on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run with standard error (and output) on a pseudo-terminal; (status, screen)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 columns
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closed: the command exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    where = tmp_path_factory.mktemp("progress")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")},
        "LEDGER_DATABASE_URL": f"sqlite:///{where / 'ledger.db'}",
        "LEDGER_SIGNING_KEY_FILE": str(where / "signing.key"),
        "LEDGER_PERSON_SECRET_FILE": str(where / "person.key"),
    }
    for args in (["demo", "--subjects", "60"], ["checkpoint"]):
        subprocess.run([LEDGER, *args], cwd=where, env=env, check=True, capture_output=True)
    return where, env


COMMANDS = {
    "rebuild": ["rebuild"],
    "verify": ["verify"],
    "backup": ["backup", "ledger.backup"],
    "restore": ["--database-url", "sqlite:///restored.db", "restore", "ledger.backup"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_long_command_draws_a_bar_on_a_terminal_only(
    store: tuple[Path, dict[str, str]], name: str
) -> None:
    where, env = store
    if name == "restore":
        (where / "restored.db").unlink(missing_ok=True)
        subprocess.run([LEDGER, *COMMANDS["backup"]], cwd=where, env=env, check=True, capture_output=True)
    status, screen = _on_terminal([LEDGER, *COMMANDS[name]], env, where)
    assert status == 0, screen
    assert BAR.search(screen), f"no progress bar on the terminal:\n{screen}"
    if name == "restore":
        (where / "restored.db").unlink()
    piped = subprocess.run([LEDGER, *COMMANDS[name]], cwd=where, env=env, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert not BAR.search(piped.stderr), f"a bar in a pipe:\n{piped.stderr}"


def test_project_shows_the_views_catching_up(store: tuple[Path, dict[str, str]]) -> None:
    where, env = store
    # Views behind the ledger: a rebuild of nothing is not possible, so record more first.
    subprocess.run(
        [LEDGER, "submit", str(ROOT / "examples" / "events.jsonl")], cwd=where, env=env,
        capture_output=True, check=False,
    )
    status, screen = _on_terminal([LEDGER, "project"], env, where)
    assert status == 0, screen
    assert "project catching up" in screen and BAR.search(screen), screen


class _Metrics:
    def __init__(self) -> None:
        self.lags: list[tuple[int, int]] = []

    def set_ingest_lag(self, partition: int, messages: int) -> None:
        self.lags.append((partition, messages))


def test_the_ingest_catch_up_observer_passes_lag_on_and_ends_when_caught_up() -> None:
    metrics = _Metrics()
    catch_up = CatchUp(metrics)
    catch_up.set_ingest_lag(0, 500)
    catch_up.set_ingest_lag(1, 300)
    assert not catch_up.caught_up
    catch_up.set_ingest_lag(0, 0)
    assert not catch_up.caught_up
    catch_up.set_ingest_lag(1, 0)
    assert catch_up.caught_up
    assert metrics.lags == [(0, 500), (1, 300), (0, 0), (1, 0)]
    assert catch_up.lags == {0: 0, 1: 0}
