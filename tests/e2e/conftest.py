"""Browser journeys: Debian's Chromium driven by Playwright against a live portal and the emulator.

Chromium is the system binary (``apt-get install chromium``), never Playwright's download, which
cannot be fetched here. Without it, every test in this directory is skipped and says why.

The portal runs in pytest-django's live server (its own thread, tasks inline under Q_SYNC) and
is reached at ``http://127.0.0.1:<port>``: the emulator's OAuth client only accepts loopback
redirect URIs, and with ``PUBLIC_BASE_URL`` pointing there the emulator's push notifications
reach the webhook. Each test gets a fresh browser context (1280×800); its last page is saved to
``tests/e2e/artifacts/<journey>.png``.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.integrations.google.conftest import Google, google  # noqa: F401 (the fixture)

ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}
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


@pytest.fixture
def tab(chromium, request):
    """A browser tab in a fresh context (named apart from pytest-playwright's ``page``, whose browser
    is a download); the last page is saved as ``artifacts/<journey>.png``."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    context = chromium.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    refused: list[str] = []  # what the Content-Security-Policy blocked: the portal must need nothing of it
    tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    assert not refused, f"the page broke its Content-Security-Policy: {refused}"
    ARTIFACTS.mkdir(exist_ok=True)
    journey = request.node.originalname.removeprefix("test_")
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{journey}.png"))
    except PlaywrightError:  # a crashed page: the test's own failure says more
        pass
    finally:
        context.close()


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
