"""The README is exact: every shell block of its "Two commands" section (which holds the
"After `make run`" block) runs as written and exits 0 against a fresh demo store, and
the example subject it names is the one the demo names.

The ledger block runs line by line in a scratch directory that has the work tree's
``.venv``, ``tools`` and ``examples`` (the relative paths the README uses) and a fresh
``./ledger.db`` loaded by ``ledger demo``, as ``make run`` leaves it. ``make run`` itself
runs from the work tree with the store, keys and port moved to scratch places through
the environment (``LEDGER_*`` and ``PORT``, both documented), and is stopped once it
serves its home page. ``make test`` is what runs this test: only its dry run is checked.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tomllib
from pathlib import Path

import orjson
import pytest

from tests.ship.installed import fetch, free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _blocks() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", _section("Two commands"), flags=re.DOTALL)
    return [
        [line for line in b.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        for b in blocks
    ]


def test_the_section_has_the_two_commands_and_the_ledger_block() -> None:
    blocks = _blocks()
    assert len(blocks) == 2
    assert [line.split()[:2] for line in blocks[0]] == [["make", "run"], ["make", "test"]]
    assert all(line.startswith(".venv/bin/") for line in blocks[1])


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo store in ./ledger.db of a scratch directory, as `make run` leaves it."""
    where = tmp_path_factory.mktemp("readme")
    for name in (".venv", "tools", "examples"):
        (where / name).symlink_to(ROOT / name)
    demo = subprocess.run(
        [".venv/bin/ledger", "demo", "--json"], cwd=where, env=_env(),
        capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    (where / "demo.json").write_text(demo.stdout)
    return where


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(extra)
    return env


def test_the_readme_names_the_demo_example_subject(demo_dir: Path) -> None:
    example = orjson.loads((demo_dir / "demo.json").read_text())["example_subject"]
    codes = set(re.findall(r"\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b", _section("Two commands")))
    assert codes == {example}


@pytest.mark.parametrize("line", _blocks()[1], ids=lambda line: line[10:60])
def test_each_ledger_line_runs_green(demo_dir: Path, line: str) -> None:
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line], cwd=demo_dir, env=_env(),
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    if "--output bundle.json" in line:
        assert (demo_dir / "bundle.json").exists()
    if "verify_bundle.py" in line:
        assert result.stdout.startswith("OK:"), result.stdout


def test_make_run_loads_the_demo_and_serves_on_the_port_given(tmp_path: Path) -> None:
    port = free_port()
    env = _env(
        PORT=str(port),
        LEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}",
        LEDGER_SIGNING_KEY_FILE=str(tmp_path / "signing.key"),
        LEDGER_PERSON_SECRET_FILE=str(tmp_path / "person.key"),
        LEDGER_TOKENS_FILE=str(tmp_path / "tokens.json"),
    )
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        run = subprocess.Popen(
            ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        try:
            wait_http(f"http://127.0.0.1:{port}/", 300, run)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{log.read_text()[-3000:]}") from None
        status, _, body = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"/static/site.css" in body
        printed = log.read_text()
        assert "example subject: 91440100423988735H" in printed
        assert f"http://127.0.0.1:{port}/" in printed
    finally:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def test_make_test_is_the_lint_and_the_suite() -> None:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"], cwd=ROOT, env=_env(),
        capture_output=True, text=True, timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert "ruff check" in dry.stdout and "mypy" in dry.stdout and "pytest" in dry.stdout
    assert "ensure-promtool.sh" in dry.stdout and "ensure-compose.sh" in dry.stdout


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised (PEP 503): ``psycopg[binary]>=3`` →
    ``psycopg``, ``chinese_calendar`` → ``chinese-calendar``."""
    name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_which_library_does_what_names_every_runtime_dependency() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n### Which library does what\n")
    table = text[start : text.index("\n#", start + 1)]
    named = {
        _name(token)
        for row in table.splitlines()
        if row.startswith("| ")
        for token in re.findall(r"`([^`]+)`", row.split("|")[1])
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {_name(r) for r in project["dependencies"]}
    assert required <= named, f"not in the README's table: {sorted(required - named)}"
