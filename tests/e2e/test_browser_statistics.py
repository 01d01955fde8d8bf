"""The statistics page in a real headless Chromium with no network: every request
that leaves the app is refused, and the charts still draw (the chart library is
shipped with the package). Needs ``tests/e2e/ensure_chromium.sh`` first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.apphelpers import DemoApp, build_demo_app, serve
from tests.e2e.test_browser import ARGS, ARTIFACTS, CHROMIUM

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp = tmp_path_factory.mktemp("browser-statistics")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_statistics_charts_render_with_no_network(demo_app: DemoApp) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with serve(demo_app.app) as base, playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")

            def only_the_app(route: Any) -> None:
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_app)
            page.goto(f"{base}/login?next=/insight/statistics")
            page.fill("#token", demo_app.tokens["auditor"])
            page.click("form[action='/login'] button")
            page.wait_for_url(f"{base}/insight/statistics")
            page.wait_for_selector("body[data-charts='5']", timeout=15_000)
            for chart in ("records", "regions", "publications", "workflows", "grades"):
                el = f"#chart-{chart}"
                assert page.get_attribute(el, "data-drawn") == "true"
                assert page.locator(f"{el} svg path").count() > 0
            page.screenshot(path=str(ARTIFACTS / "statistics-page.png"), full_page=True)

            page.goto(f"{base}/insight/warnings")
            assert page.locator("#warning-rules tbody tr").count() == 5
            page.screenshot(path=str(ARTIFACTS / "warnings-page.png"), full_page=True)
        finally:
            browser.close()
    assert outside == []
