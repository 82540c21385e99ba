"""Debian chromium driven by Playwright (the PyPI package's own driver; it never downloads a browser).

`chromium_context(...)` launches /usr/bin/chromium with the flags this machine needs and a fresh user-data-dir,
or skips the test with the reason (no chromium, no playwright).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CRS_CDS_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def browser_or_skip() -> Any:
    """The sync_playwright entry point, or a skip naming what is missing."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium; make test installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    return sync_playwright


@contextmanager
def chromium_context(profile: Path, **context: Any) -> Iterator[Any]:
    """A persistent browser context in a fresh profile folder, closed (and chromium stopped) on exit."""
    sync_playwright = browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS, **context
        )
        try:
            yield browser
        finally:
            browser.close()
