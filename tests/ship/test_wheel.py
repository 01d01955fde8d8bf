"""What users install works: the wheel built from the work tree carries every data file
of the packages, and, installed into a fresh environment without the source tree,
``ledger demo`` loads the demo and ``ledger serve`` serves the home page, a subject
page, a static asset and the API explorer at ``/docs`` with its assets (no CDN)."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.ship.installed import PACKAGES, ROOT, Installed, fetch, free_port, wait_http, wheel_files


def _tree_data_files() -> set[str]:
    """Every non-Python file under the packages of the work tree, as wheel paths."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *PACKAGES],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    return {p for p in tracked if not p.endswith(".py") and (ROOT / p).is_file()}


def test_the_wheel_carries_every_data_file_of_the_packages(installed: Installed) -> None:
    files = _tree_data_files()
    assert {"api/templates/base.html", "api/static/site.css", "commands/rules/ndrc-order-36.json"} <= files
    assert any(f.startswith("events/schemas/") for f in files)
    missing = sorted(files - wheel_files(installed.wheel))
    assert not missing, f"not in the wheel (add a package-data glob in pyproject.toml): {missing}"


def test_the_installed_package_is_imported_from_the_fresh_environment(installed: Installed) -> None:
    out = subprocess.run(
        [str(installed.bin / "python"), "-c",
         "import api, entrypoints.cli, commands; print(api.__file__); print(commands.__file__)"],
        cwd=installed.home, env=installed.env(), capture_output=True, text=True, check=True,
    ).stdout.split()
    for path in out:
        assert Path(path).is_relative_to(installed.venv), f"{path} is not from the installed wheel"


@pytest.fixture(scope="module")
def demo_served(installed: Installed) -> Iterator[tuple[str, str]]:
    """``ledger demo`` then ``ledger serve`` of the installed package, from a scratch
    directory: (base URL, the demo's example subject)."""
    env = installed.env(LEDGER_DATABASE_URL=f"sqlite:///{installed.home / 'wheel-demo.db'}")
    demo = subprocess.run(
        [installed.ledger, "demo", "--json"], cwd=installed.home, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    summary = orjson.loads(demo.stdout)
    assert summary["rejected"] == 0, summary["rejections"]
    port = free_port()
    serve = subprocess.Popen(
        [installed.ledger, "serve", "--port", str(port)], cwd=installed.home, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(f"{base}/healthz", 60, serve)
        except AssertionError:
            serve.kill()
            raise AssertionError(serve.communicate()[1].decode()[-3000:]) from None
        yield base, summary["example_subject"]
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()


def test_the_installed_package_serves_pages_assets_and_docs(demo_served: tuple[str, str]) -> None:
    base, code = demo_served
    status, kind, body = fetch(f"{base}/")
    assert status == 200 and kind.startswith("text/html")
    assert b"/static/site.css" in body

    status, kind, body = fetch(f"{base}/subjects/{code}")
    assert status == 200 and kind.startswith("text/html"), body[:500]
    assert code.encode() in body

    status, kind, body = fetch(f"{base}/static/site.css")
    assert status == 200 and kind.startswith("text/css") and len(body) > 100

    status, kind, body = fetch(f"{base}/docs")
    assert status == 200 and kind.startswith("text/html")
    page = body.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert assets, page
    for url in assets:
        assert url.startswith("/"), f"/docs loads {url} from another host (it must work offline)"
        status, _, asset = fetch(f"{base}{url}")
        assert status == 200 and asset, url
    assert any(u.endswith("swagger-ui-bundle.js") for u in assets)
    assert "url: '/openapi.json'" in page
    assert "https://" not in page and "http://" not in page

    status, kind, body = fetch(f"{base}/openapi.json")
    assert status == 200 and orjson.loads(body)["info"]["title"] == "credit-ledger"
