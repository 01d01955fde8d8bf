"""``/docs`` works offline: in a headless Chromium that may reach nothing but the
server itself, Swagger UI (served from the ``swagger-ui-bundle-v2`` package) renders
the OpenAPI 3.1 document's operations. Screenshot: ``artifacts/docs.png``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.apphelpers import DemoApp, build_demo_app, serve
from tests.e2e.test_browser import ARGS, ARTIFACTS, CHROMIUM

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def small_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("docs-browser")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=5)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_swagger_ui_renders_the_api_without_any_other_host(small_app: DemoApp) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    elsewhere: list[str] = []
    with serve(small_app.app) as base, playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def offline(route: Any) -> None:
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.goto(base + "/docs")
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.locator(".opblock").count() >= 10
            assert "credit-ledger" in page.inner_text(".info .title")
            assert page.get_by_text("/v1/events", exact=True).count() >= 1
            page.screenshot(path=str(ARTIFACTS / "docs.png"), full_page=False)
        finally:
            browser.close()
    assert not elsewhere, f"/docs asked other hosts: {elsewhere}"
