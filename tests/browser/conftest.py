"""Browser tests: Debian's headless Chromium, driven by Playwright, against the app served by `chalice local`.

One browser per test session (per xdist worker); each test gets a fresh phone-sized context (390×844 CSS pixels at
device scale 2, zh-CN), so nothing — sessionStorage included — carries over between tests. Screenshots go to
`build/screenshots/<test>/` (gitignored); a reference set is kept in `docs/screenshots/` by hand.

These tests run in the normal `make test`, which installs Chromium first (the Makefile's `chromium` target). Without
Chromium they fail rather than skip, so a missing browser can never pass unnoticed.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.integration.conftest import _emulator, app_server, client, demo_tenant, sign_in  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("YQ_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "build" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
# How long an explicit wait may last: generous, because a loaded CI machine serves `chalice local` slowly; a wait
# only runs this long when the page is broken.
WAIT_MS = 60_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium against the local app (part of make test)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so fixtures can tell at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def screenshot_folder(node) -> Path:
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium "
                    "chromium-driver); set YQ_CHROMIUM to use another build")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def phones(browser, request):
    """`phones(user_agent=None)` opens a fresh phone-sized page (a new context: no storage shared with any other).
    Any uncaught script error on any of them fails the test; when the test fails, each page's screen at that moment
    is kept as build/screenshots/<test>/failed-<n>.png."""
    contexts, errors = [], []

    def open_phone(user_agent: str | None = None):
        context = browser.new_context(**PHONE, **({"user_agent": user_agent} if user_agent else {}))
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    try:
        yield open_phone
    finally:
        close_contexts(request, contexts)
    assert not errors, errors


def close_contexts(request, contexts: list) -> None:
    """Close a test's browser contexts; when the test failed, keep each page's screen at that moment as
    build/screenshots/<test>/failed-<n>.png."""
    report = getattr(request.node, "report_call", None)
    for number, context in enumerate(contexts, start=1):
        if report is not None and report.failed:
            for page in context.pages:
                page.screenshot(path=str(screenshot_folder(request.node) / f"failed-{number}.png"))
        context.close()


@pytest.fixture
def phone(phones):
    return phones()


@pytest.fixture
def shoot(request):
    """`shoot("login")` saves the screen of the test's `phone` (or of `page=`) as build/screenshots/<test>/<nn>-login.png
    and returns the path."""
    folder = screenshot_folder(request.node)
    for old in folder.glob("*.png"):
        old.unlink()
    taken: list[Path] = []

    def take(step: str, full_page: bool = False, page=None) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{step}.png"
        (page or request.getfixturevalue("phone")).screenshot(path=str(path), full_page=full_page,
                                                              animations="disabled")
        taken.append(path)
        return path

    return take


@pytest.fixture
def pages(browser, request):
    """`pages(desktop=False, user_agent=None)`: a fresh page of the workspace or the console; script errors on any
    fail the test, and a failed test keeps a screenshot of each."""
    from tests.browser.workspace_support import open_page

    errors, contexts = [], []
    try:
        yield lambda desktop=False, user_agent=None: open_page(browser, errors, contexts, desktop, user_agent)
    finally:
        close_contexts(request, contexts)
    assert not errors, errors


@pytest.fixture
def snap(request):
    """`snap(page, "name", keep_as=None)`: a screenshot in build/screenshots/<test>/; `keep_as` also copies it to
    docs/screenshots/ as `<KEPT_AS>-<keep_as>.png`, with the test module's `KEPT_AS` prefix (ws, adm)."""
    from tests.browser.workspace_support import keep

    folder = screenshot_folder(request.node)
    for old in folder.glob("*.png"):
        old.unlink()
    count = [0]

    def take(page, step: str, keep_as: str | None = None, full_page: bool = False):
        count[0] += 1
        path = folder / f"{count[0]:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        if keep_as:
            keep(path, f"{request.module.KEPT_AS}-{keep_as}")
        return path

    return take
