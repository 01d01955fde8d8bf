"""The package as users install it: a wheel built from the work tree (the files the
Dockerfile copies, in a scratch directory, so the tree gets no build/ litter), installed
into a fresh virtual environment without the source tree.

The fresh environment takes the project's dependencies from the interpreter running
the tests (a ``.pth`` line per site-packages directory, added AFTER the wheel is
installed, so pip never sees or touches the other environment) instead of downloading
them again; the work tree is on no path of it, and its ``.pth``-activated editable
finder is not loaded (``.pth`` files of directories added by a ``.pth`` line are not
processed). Commands run from a scratch working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.integration.kafka_broker import free_port

__all__ = ["Installed", "build_wheel", "fetch", "free_port", "install", "wait_http", "wheel_files"]

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "events", "commands", "ledger", "projections", "services", "api", "demo", "bench",
    "federation", "entrypoints",
)
"""The import packages of the distribution (pyproject.toml's find include)."""
DOCKER_COPIES = ("pyproject.toml", "README.md", *PACKAGES)
"""What docker/Dockerfile copies into its build stage before ``pip install .``."""


@dataclass(frozen=True)
class Installed:
    """A fresh environment holding the built wheel."""

    wheel: Path
    venv: Path
    home: Path
    """A scratch working directory (nothing of the work tree in it)."""

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def ledger(self) -> str:
        return str(self.bin / "ledger")

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment for the installed commands: PATH with the fresh venv
        first, no PYTHONPATH, keys and tokens in the scratch directory."""
        env = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "LEDGER_SIGNING_KEY_FILE": str(self.home / "signing.key"),
            "LEDGER_PERSON_SECRET_FILE": str(self.home / "person.key"),
            "LEDGER_TOKENS_FILE": str(self.home / "tokens.json"),
        }
        env.update(extra)
        return env


def build_wheel(out: Path) -> Path:
    """``pip wheel --no-deps`` of a copy of the work tree's packaged files."""
    src = out / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in DOCKER_COPIES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    wheels = out / "wheels"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"pip wheel failed:\n{result.stdout}\n{result.stderr}"
    (wheel,) = wheels.glob("credit_ledger-*.whl")
    return wheel


def install(wheel: Path, where: Path) -> Installed:
    """A fresh venv with ``wheel`` installed (no dependencies fetched)."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"pip install of the wheel failed:\n{result.stderr}"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    borrowed = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(site, "_borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n")
    home = where / "home"
    home.mkdir()
    return Installed(wheel=wheel, venv=venv, home=home)


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers 200 (fails early if ``proc`` died)."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s} s: {last}")


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())
