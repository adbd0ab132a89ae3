"""Browser tests: Playwright (sync API) driving Debian's Chromium headless.

One browser for the whole session, one daemon with simulated stations for
the operator tests (a second one in factory state for the wizard). Chromium
absent is a failure with a clear message, never a silent skip: CI installs it
through `./dev test`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgectl.adapters.store import Role

from .server import PASSWORD, SiteThread, demo_site, free_port

CHROMIUM = os.environ.get("EDGECTL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="package")  # ends with tests/ui: the sync Playwright loop must not outlive it
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium` "
                    "(./dev test does) — the browser tests do not skip", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package `playwright` is missing: pip install -e '.[test]'", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="package")  # ends with tests/ui: the sync Playwright loop must not outlive it
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteThread]:
    s = demo_site(free_port())
    users = {"alice": (Role.ADMIN, PASSWORD), "bob": (Role.USER, PASSWORD), "locky": (Role.USER, PASSWORD)}
    thread = SiteThread(tmp_path_factory.mktemp("ui-site"), s, s, users).start()
    try:
        yield thread
    finally:
        thread.stop()


def new_page(browser: Any, base_url: str, viewport: dict[str, int] = LAPTOP, lang: str = "en") -> Any:
    context = browser.new_context(base_url=base_url, viewport=viewport, locale=lang, accept_downloads=True,
                                  extra_http_headers={"Accept-Language": lang})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    return page


@pytest.fixture
def page(browser: Any, site: SiteThread) -> Iterator[Any]:
    p = new_page(browser, site.url)
    try:
        yield p
    finally:
        p.context.close()


def login(page: Any, user: str, password: str = PASSWORD, expect: str = "**/ui/dashboard") -> None:
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(expect)


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
