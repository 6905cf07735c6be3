"""Browser journeys: Debian's Chromium driven by Playwright against a live portal and the emulator.

Chromium is the system binary (``apt-get install chromium``), never Playwright's download, which
cannot be fetched here. Without it, every test in this directory is skipped and says why.

The portal runs in pytest-django's live server (its own thread, tasks inline under Q_SYNC) and
is reached at ``http://127.0.0.1:<port>``: the emulator's OAuth client only accepts loopback
redirect URIs, and with ``PUBLIC_BASE_URL`` pointing there the emulator's push notifications
reach the webhook. Each journey runs twice, in a fresh browser context each time: on a desktop
(1280×800) and on a phone (390×844); its last page is saved to
``tests/e2e/artifacts/<journey>-<viewport>.png``.

Every portal page a journey visits is checked as it loads and after each htmx swap: axe-core
(vendored in ``vendor/``, injected by Playwright, never served by the portal) must find no serious
or critical violation, and the page must not scroll sideways. Findings fail the journey at its end.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.integrations.google.conftest import Google, google  # noqa: F401 (the fixture)

ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Runs in every page (after axe itself): audit on load and after each htmx swap, report to the test.
AUDIT = """
(() => {
  if (window.top !== window) return;
  let chain = Promise.resolve([]);
  const run = async () => {
    const found = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1) {
      found.push({id: "page-scrolls-sideways", impact: "serious",
                  help: `page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window`, nodes: []});
    }
    const result = await window.axe.run(document, {resultTypes: ["violations"]});
    for (const v of result.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        found.push({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))});
      }
    }
    return found;
  };
  // One audit at a time (axe refuses to run twice at once); each reports what it found.
  window.__runAudit = () => (chain = chain.then(run, run));
  let timer = null;
  const audit = () => {
    clearTimeout(timer);
    timer = setTimeout(() => window.__runAudit().then(found => window.__audit(location.href, found)), 50);
  };
  window.addEventListener("load", audit);
  document.addEventListener("htmx:afterSettle", audit);
})();
"""


class Audit:
    """What the in-page audits reported: pages checked, and findings on the portal's own pages."""

    def __init__(self) -> None:
        self.pages: list[str] = []
        self.findings: list[str] = []
        self.skip_prefixes: list[str] = ["about:", "data:"]

    def report(self, source, url: str, found: list[dict]) -> None:
        if any(url.startswith(prefix) for prefix in self.skip_prefixes):
            return
        self.pages.append(url)
        for item in found:
            self.findings.append(f"{url}: {item['impact']} {item['id']}: {item['help']} {item['nodes']}")


# As the machine notes prescribe: without the networking flags Chromium keeps trying to reach
# Google's own hosts, which the closed network refuses (and the test plugin must not allow).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium: ``$CHROMIUM`` if set, else the first of the usual names on PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def _skip_reason() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package (pip install -r requirements.txt)"
    if chromium_path() is None:
        return (
            "browser tests need a Chromium binary: apt-get install chromium "
            "(or set CHROMIUM=/path/to/chromium)"
        )
    return None


def pytest_collection_modifyitems(config, items):
    """Skip this directory's tests, with the reason, when there is no browser to drive."""
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def chromium(pytestconfig):
    """One headless Chromium per test module.

    Playwright's sync API keeps an event loop running in this thread, so Django would refuse
    the test's own ORM calls as "async unsafe"; they are plain synchronous calls between browser
    steps, so the check is switched off while the browser lives (and only then).
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(
                executable_path=chromium_path(),
                args=CHROMIUM_ARGS,
                # pytest-playwright's --headed and --slowmo, for watching a journey under a display
                headless=not pytestconfig.getoption("headed", False),
                slow_mo=pytestconfig.getoption("slowmo", 0),
            )
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request) -> str:
    """Each journey runs on a desktop and on a phone."""
    return request.param


@pytest.fixture
def audit(google: Google) -> Audit:  # noqa: F811 (the imported fixture)
    found = Audit()
    found.skip_prefixes.append(google.url)  # Google's pages are Google's
    return found


@pytest.fixture
def tab(chromium, request, viewport, audit):
    """A browser tab in a fresh context (named apart from pytest-playwright's ``page``, whose browser
    is a download), audited on every page (``AUDIT``); the last page is saved as
    ``artifacts/<journey>-<viewport>.png``. Fails the journey on any audit finding."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    context = chromium.new_context(viewport=VIEWPORTS[viewport], locale="en-US")
    context.set_default_timeout(10_000)
    context.expose_binding("__audit", audit.report)
    context.add_init_script(path=str(AXE))
    context.add_init_script(script=AUDIT)
    tab = context.new_page()
    tab.viewport_name = viewport
    refused: list[str] = []  # what the Content-Security-Policy blocked: the portal must need nothing of it
    tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    journey = request.node.originalname.removeprefix("test_")
    try:
        audit.report(None, tab.url, tab.evaluate("() => window.__runAudit ? window.__runAudit() : []"))
        tab.screenshot(path=str(ARTIFACTS / f"{journey}-{viewport}.png"))
    except PlaywrightError:  # a crashed page: the test's own failure says more
        pass
    finally:
        context.close()
    assert not refused, f"the page broke its Content-Security-Policy: {refused}"
    assert audit.pages, "no portal page was audited"
    assert not audit.findings, "accessibility or layout findings:\n" + "\n".join(
        dict.fromkeys(audit.findings)
    )


@pytest.fixture
def portal(live_server, settings, google: Google) -> str:  # noqa: F811 (the imported fixture)
    """The live portal's base URL on 127.0.0.1, with push notifications addressed to it.

    pytest-django's live server answers each request in a thread of its own, and with SQLite's
    in-memory test database all of them share one connection: a page load and a webhook's pull
    at the same moment fail with "database table is locked". So while a journey runs, the portal
    answers one request at a time (as a single worker would); at the end, Google stops sending
    notifications and the request in flight finishes before the database is flushed. For the
    same reason a journey checks what happened through pages and Google's API, not the ORM.
    """
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            return app(environ, start_response)

    httpd.set_app(serialized)
    url = live_server.url.replace("//localhost:", "//127.0.0.1:")
    if "127.0.0.1" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.PUBLIC_BASE_URL = url
    yield url
    google.reset()
    with one_at_a_time:
        httpd.set_app(app)


@pytest.fixture
def emulator_url(google: Google) -> str:  # noqa: F811 (the imported fixture)
    return google.url


@pytest.fixture
def tomorrow(practice_a):
    """Practice A's tomorrow (a local date)."""
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now().astimezone(practice_a.zone).date() + timedelta(days=1)
