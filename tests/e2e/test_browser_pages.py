"""Every page in a real headless Chromium at 1280 and 390 px (one server and one
browser for the module; Debian's Chromium, ``tests/e2e/ensure_chromium.sh``):

* no page is wider than the screen (``scrollWidth <= innerWidth``), with every tab of
  the subject page open in turn;
* no page's visible text (``innerText``) shows a kebab-case code or a ``credit.*`` event
  type: people read labels (``api/page_labels.py``);
* the auditor's timeline draws its chart, and its next / previous record buttons move
  the moment from record to record;
* ``/docs`` and ``/redoc`` render with every request off this machine refused;
* axe-core (``tests/e2e/ensure_axe.sh`` fetches it) finds no serious or critical
  accessibility violation on the public pages, nor on a subject's 我的信用 (``/mine``)
  and the handler's desk (``/objections``), each logged in with its own token and with
  an objection the subject filed waiting at the desk.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.tokens import TokenStore
from events.instants import CST, from_us
from tests.e2e.apphelpers import DemoApp, build_demo_app, serve
from tests.e2e.test_browser import ARGS, ARTIFACTS, CHROMIUM
from tests.scenarios.support import event

playwright_sync = pytest.importorskip("playwright.sync_api")

HERE = Path(__file__).resolve().parent
WIDTHS = (1280, 390)
KEBAB = re.compile(r"[a-z]+(-[a-z]+)+")
EVENT_TYPE = re.compile(r"credit\.[a-z]+\.[a-z]+")
CODE_PAGES = ("/problems/",)
"""Pages whose subject is a code itself (what a reason code means): not held to the
no-code rule."""
AXE_SCRIPT: list[Path] = []
OBJECTION = "objection-20260101-0b1ec7000001"
"""The id of the objection the subject files (shaped as the desk's form makes them)."""


@dataclass
class Site:
    base: str
    browser: Any
    demo: DemoApp
    subjects: list[str]
    surveys: dict[int, Survey] = field(default_factory=dict)

    def public_pages(self) -> list[str]:
        return [
            "/",
            "/search?q=北京",
            "/search?q=有限公司",
            "/login",
            "/lists/serious-dishonesty",
            "/lists/focus",
            "/lists/bans",
            "/lists/trustworthy",
            "/no/such/page",
            "/problems/unknown-subject",
            *(f"/subjects/{code}" for code in self.subjects),
        ]

    def auditor_pages(self) -> list[str]:
        return [
            *(f"/audit/subjects/{code}" for code in self.subjects[:2]),
            "/insight/warnings",
            "/insight/statistics",
        ]

    def desk_pages(self) -> dict[str, str]:
        """The pages of one role each (path → the role whose token opens it); axe checks
        them as it checks the public pages."""
        return {"/mine": "subject", "/objections": "desk-handler"}

    def page(self, width: int, role: str | None = None) -> Any:
        """A fresh page at ``width``, logged in as ``role`` (None: the public)."""
        context = self.browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        if role is not None:
            context.add_cookies(
                [{"name": "ledger_token", "value": self.demo.tokens[role], "url": self.base}]
            )
        return context.new_page()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("browser-pages")
    demo = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    counts = Counter(d.event["subject"] for d in demo.events)
    subjects = [code for code, _ in counts.most_common(4)]
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        store = TokenStore(tmp / "tokens.json")
        demo.tokens["subject"] = store.add("subject", subject=subjects[0])[0]
        platform = f"credit-platform/{subjects[0][2:8]}"  # the subject's own platform resolves
        demo.tokens["desk-handler"] = store.add("objection-handler", agency=platform)[0]
        with serve(demo.app) as base, playwright_sync.sync_playwright() as pw:
            file_objection(demo, base, subjects[0])
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                yield Site(base, browser, demo, subjects)
            finally:
                browser.close()
    finally:
        demo.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def file_objection(demo: DemoApp, base: str, code: str) -> None:
    """The subject objects to its latest penalty over the API (its own token), so the
    handler's desk has an objection to show and the subject a request in progress."""
    target = [
        d.event
        for d in demo.events
        if d.event["subject"] == code and d.event["type"] == "credit.penalty.decided"
    ][-1]
    now = from_us(demo.ledger.clock() - 60_000_000).astimezone(CST).replace(microsecond=0)
    objection = event(
        "credit.objection.filed",
        code,
        now.isoformat(),
        {"target": target["id"], "grounds": "处罚决定书载明的罚款金额与公示不一致"},
        f"subject/{code}",
        id=OBJECTION,
    )
    filed = httpx.post(f"{base}/v1/events", json=objection, headers=demo.headers("subject"))
    assert filed.status_code == 201, filed.text


def open_page(page: Any, url: str) -> None:
    """Go to ``url`` and wait until its scripts have drawn it."""
    page.goto(url)
    if "/audit/subjects/" in url:
        page.wait_for_selector("#timeline[data-loaded]:not([data-loaded=''])", timeout=20_000)
    elif url.endswith("/insight/statistics"):
        page.wait_for_selector("body[data-charts='5']", timeout=20_000)


def views_of(page: Any) -> Iterator[str]:
    """Each view of the page: the page itself, then each of its tabs opened in turn
    (yields the tab's name)."""
    yield "page"
    for tab in page.locator(".tabs > label").all():
        tab.click()
        yield tab.inner_text().split()[0]


def all_pages(site: Site) -> Iterator[tuple[str, str | None]]:
    """Every page with the role that opens it (None: the public)."""
    yield from ((path, None) for path in site.public_pages())
    yield from ((path, "auditor") for path in site.auditor_pages())
    yield from site.desk_pages().items()


@dataclass
class Survey:
    """What one pass over every page at one width found."""

    too_wide: list[str] = field(default_factory=list)
    codes: dict[str, set[str]] = field(default_factory=dict)
    inaccessible: dict[str, list[str]] = field(default_factory=dict)


def survey(site: Site, width: int) -> Survey:
    """Open each page once at ``width`` (each tab of a subject page in turn): how wide it
    is, the codes its visible text shows, and (public pages) axe-core's serious and
    critical violations. Done once per width for the module."""
    if width in site.surveys:
        return site.surveys[width]
    found = Survey()
    axe = axe_script()
    checked = {*site.public_pages(), *site.desk_pages()}
    for path, role in all_pages(site):
        page = site.page(width, role)
        open_page(page, site.base + path)
        for view in views_of(page):
            scroll, inner, text = page.evaluate(
                "[document.scrollingElement.scrollWidth, window.innerWidth,"
                " document.body.innerText]"
            )
            if scroll > inner:
                found.too_wide.append(f"{path} ({view}): {scroll} px on a {inner} px screen")
            if not path.startswith(CODE_PAGES):
                codes = {m.group(0) for m in KEBAB.finditer(text)}
                codes |= {m.group(0) for m in EVENT_TYPE.finditer(text)}
                if codes:
                    found.codes.setdefault(path, set()).update(codes)
        if path in checked and axe is not None:
            page.add_script_tag(path=str(axe))
            result = page.evaluate("async () => await axe.run(document)")
            serious = [
                f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]
                if v.get("impact") in ("serious", "critical")
            ]
            if serious:
                found.inaccessible[path] = serious
        if width == 390:
            name = path.strip("/").replace("/", "_").replace("?", "_") or "index"
            page.screenshot(path=str(ARTIFACTS / f"page-390-{name}.png"))
        page.context.close()
    site.surveys[width] = found
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_screen(site: Site, width: int) -> None:
    assert survey(site, width).too_wide == []


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_shows_a_code(site: Site, width: int) -> None:
    assert {p: sorted(c) for p, c in survey(site, width).codes.items()} == {}


@pytest.mark.parametrize("width", WIDTHS)
def test_public_and_desk_pages_have_no_serious_accessibility_violation(
    site: Site, width: int
) -> None:
    if axe_script() is None:
        pytest.skip("axe-core could not be fetched (tests/e2e/ensure_axe.sh)")
    assert survey(site, width).inaccessible == {}


def test_timeline_chart_and_record_buttons(site: Site) -> None:
    """At 390 px: the chart is drawn (a score line and period bars), the slider keeps a
    usable width, and next / previous record step from one record's day to the next."""
    code = site.subjects[0]
    page = site.page(390, "auditor")
    open_page(page, f"{site.base}/audit/subjects/{code}")
    chart = "#course-chart"
    assert page.get_attribute(chart, "data-drawn") == "true"
    assert int(page.get_attribute(chart, "data-points") or 0) >= 2
    assert int(page.get_attribute(chart, "data-bars") or 0) >= 1
    assert page.locator(f"{chart} svg path").count() > 0
    assert page.eval_on_selector("#moment", "el => el.getBoundingClientRect().width") >= 300
    groups = set(page.eval_on_selector_all(".ticks .tick", "els => els.map(e => e.dataset.group)"))
    legend = set(page.eval_on_selector_all(".legend li", "els => els.map(e => e.dataset.group)"))
    assert groups and groups <= legend  # every tick colour is in the legend
    assert page.locator(".years .year").count() >= 2

    days = sorted(
        {
            date.fromisoformat(d)
            for d in page.eval_on_selector_all(".ticks .tick", "els => els.map(e => e.dataset.day)")
        }
    )
    start = date.fromisoformat(page.get_attribute("#timeline", "data-start") or "")
    page.eval_on_selector(
        "#moment",
        """el => { el.value = "0"; el.dispatchEvent(new Event('change', {bubbles: true})); }""",
    )
    page.wait_for_selector(f"#timeline[data-loaded='{start.isoformat()}']", timeout=15_000)
    for expected in days[:3]:
        page.click("#next-event")
        page.wait_for_selector(f"#timeline[data-loaded='{expected.isoformat()}']", timeout=15_000)
        assert page.inner_text("#moment-label") == expected.isoformat()
        assert page.get_attribute(chart, "data-moment") == expected.isoformat()
    page.click("#prev-event")
    page.wait_for_selector(f"#timeline[data-loaded='{days[1].isoformat()}']", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "timeline-390.png"), full_page=False)
    page.context.close()


def test_the_subject_and_the_handler_see_the_objection(site: Site) -> None:
    """At 390 px: the subject's objection is on its 我的信用 page, in progress, and at the
    handler's desk with its form."""
    mine = site.page(390, "subject")
    open_page(mine, f"{site.base}/mine")
    assert mine.locator(f'[data-request="{OBJECTION}"]').count() == 1
    mine.context.close()
    desk = site.page(390, "desk-handler")
    open_page(desk, f"{site.base}/objections")
    item = desk.locator(f'[data-objection="{OBJECTION}"]')
    assert item.count() == 1 and item.locator("form").count() >= 1
    desk.screenshot(path=str(ARTIFACTS / "objections-390.png"), full_page=True)
    desk.context.close()


@pytest.mark.parametrize(
    ("path", "drawn"),
    [("/docs", ".swagger-ui .info .title"), ("/redoc", ".api-content h1")],
)
def test_api_docs_render_with_the_network_blocked(site: Site, path: str, drawn: str) -> None:
    outside: list[str] = []
    page = site.page(1280)

    def only_the_app(route: Any) -> None:
        if route.request.url.startswith(site.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto(site.base + path)
    page.wait_for_selector(drawn, timeout=30_000)
    assert "credit-ledger" in page.inner_text(drawn)
    page.screenshot(path=str(ARTIFACTS / f"api-{path.strip('/')}.png"))
    page.context.close()
    assert outside == []


def axe_script() -> Path | None:
    """axe.min.js, fetched once by ``tests/e2e/ensure_axe.sh`` (``make test`` runs it);
    None when it cannot be had (no npm, no registry)."""
    if AXE_SCRIPT:
        return AXE_SCRIPT[0]
    try:
        found = subprocess.run(
            ["bash", str(HERE / "ensure_axe.sh")],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout.strip()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    AXE_SCRIPT.append(Path(found))
    return AXE_SCRIPT[0]
