"""The pages in a real headless Chromium (Debian's, driven by Playwright).

Search a demo subject that has an approved repair by its name, open its public
page, sign in as an auditor, and move the timeline slider to a day before the
repair (the repaired record is public) and after it (it is not). Screenshots go
to ``artifacts/`` (gitignored). Needs ``tests/e2e/ensure_chromium.sh`` first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from events.instants import CST, from_us
from projections.public import EVERYTHING
from tests.e2e.apphelpers import DemoApp, build_demo_app, serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp = tmp_path_factory.mktemp("browser")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def cst_day(us: int) -> date:
    return from_us(us).astimezone(CST).date()


def repaired_case(demo_app: DemoApp) -> dict[str, Any]:
    """A subject, a record repaired by an approved repair, and a day before and
    after the approval at which the API shows it public / not public."""
    events = {d.event["id"]: d for d in demo_app.events}
    views = demo_app.app.state.services.views
    for d in demo_app.events:
        if d.event["type"] != "credit.repair.approved":
            continue
        request = events[d.event["data"]["request"]]
        target = request.event["data"]["target"]
        code = d.event["subject"]
        approved = cst_day(d.recorded_us)
        before = cst_day(events[d.event["data"]["request"]].recorded_us) - timedelta(days=1)
        after = approved + timedelta(days=2)

        def published(day: date, target: str = target, code: str = code) -> bool | None:
            # the auditor's view: the public never sees a record repaired since
            body = views.disclosure(code, _end(day), _end(day), EVERYTHING).body
            item = next((i for i in body["items"] if i["event_id"] == target), None)
            return None if item is None else bool(item["published"])

        if published(before) is True and published(after) is False:
            name = next(
                e.event["data"]["subject_name"]
                for e in demo_app.events
                if e.event["subject"] == code and "subject_name" in e.event["data"]
            )
            return {"code": code, "name": name, "target": target, "before": before, "after": after}
    raise AssertionError("no demo subject with an approved repair of a public record")


def _end(day: date) -> int:
    from events.instants import end_of_day_us

    return end_of_day_us(day)


def move_slider(page: Any, start: date, day: date) -> None:
    offset = (day - start).days
    page.eval_on_selector(
        "#moment",
        """(el, v) => { el.value = String(v);
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true})); }""",
        offset,
    )
    page.wait_for_selector(f"#timeline[data-loaded='{day.isoformat()}']", timeout=15_000)


def test_timeline_shows_a_repaired_record_public_before_and_gone_after(demo_app: DemoApp) -> None:
    case = repaired_case(demo_app)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(demo_app.app) as base, playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(base + "/")
            page.fill("#q", case["name"])
            page.click("form.search button")
            page.wait_for_url(f"{base}/search?*")
            page.click(f"a[href='/subjects/{case['code']}']")
            page.wait_for_url(f"{base}/subjects/{case['code']}")
            assert page.inner_text("h1.sname") == case["name"]
            assert page.inner_text("#subject-code") == case["code"]
            page.screenshot(path=str(ARTIFACTS / "subject-page.png"), full_page=True)

            page.goto(f"{base}/login?next=/audit/subjects/{case['code']}")
            page.fill("#token", demo_app.tokens["auditor"])
            page.click("form[action='/login'] button")
            page.wait_for_url(f"{base}/audit/subjects/{case['code']}")
            page.wait_for_selector("#timeline[data-loaded]:not([data-loaded=''])")
            start = date.fromisoformat(page.get_attribute("#timeline", "data-start") or "")

            target = f"#disclosure tr[data-event-id='{case['target']}']"
            move_slider(page, start, case["before"])
            assert page.get_attribute(target, "data-published") == "true"
            assert "公示中" in page.inner_text(target)
            assert page.inner_text("#moment-label") == case["before"].isoformat()
            page.screenshot(path=str(ARTIFACTS / "timeline-before-repair.png"), full_page=True)

            move_slider(page, start, case["after"])
            assert page.get_attribute(target, "data-published") == "false"
            assert "未公示" in page.inner_text(target)
            assert page.locator("#history li.mark-repair").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "timeline-after-repair.png"), full_page=True)
        finally:
            browser.close()


def test_the_subject_page_downloads_the_credit_report(demo_app: DemoApp) -> None:
    """The public page's 下载信用报告 downloads the PDF; its first page, rendered by
    pdftoppm, is kept in artifacts/ (credit-report-page1.png) and its Chinese is typeset in
    an embedded CJK font (pdffonts), not left to boxes."""
    import subprocess

    from pypdf import PdfReader

    case = repaired_case(demo_app)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(demo_app.app) as base, playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{base}/subjects/{case['code']}")
            with page.expect_download(timeout=60_000) as caught:
                page.click("#download-report")
            download = caught.value
            pdf = ARTIFACTS / "credit-report.pdf"
            download.save_as(str(pdf))
        finally:
            browser.close()
    assert download.suggested_filename.startswith(f"credit-report-{case['code']}")
    reader = PdfReader(str(pdf))
    text = reader.pages[0].extract_text()
    assert "信 用 报 告" in text and case["name"] in text and case["code"] in text
    assert "credit-report.json" in reader.attachments
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(ARTIFACTS / "credit-report-page1"),
        ],
        check=True,
        timeout=60,
    )
    shot = next(ARTIFACTS.glob("credit-report-page1*.png"))
    assert shot.stat().st_size > 20_000  # a typeset page, not an empty one
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK" in line or "NotoSansCJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
