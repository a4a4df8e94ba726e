"""Real-browser fixtures: Debian's Chromium driven by Playwright, and a live server.

Pitfall 12: no browser is ever downloaded. Playwright launches /usr/bin/chromium through
``executable_path``; without it the browser tests skip, naming the missing package.
The server is werkzeug in a thread, serving the same app (and test database) as the
``app`` fixture, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.builders import threaded_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install the Debian package 'chromium'")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Python package 'playwright' not installed"
    )
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def live_server(_migrated_app):
    with threaded_server(_migrated_app) as url:
        yield url


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("node_modules/axe-core missing: run `npm install` (npm package 'axe-core')")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
