"""Browser tests: the dashboard served on a free loopback port, driven by headless Chromium.

One module-scoped setup: a simulated lake (ELT marts), the local stack (for the live view) in
the same state directory, the dashboard server, and one Chromium. Everything started is stopped.
Without Chromium and its driver the tests are reported as skipped, never as passed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glucosestream.local import stack
from glucosestream.resources import project_path
from tests.component.dashboard.lake import Lake, build_lake
from tests.integration.conftest import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("GS_TEST_ARTIFACTS", project_path("test-artifacts"))) / "browser"
DOCS_IMAGES = os.environ.get("GS_DASHBOARD_DOCS_IMG") == "1"
"""Set to 1 to (re)write docs/img/dashboard_*.png from the test screenshots (with a cohort
large enough for the privacy-mode release to be readable; slower)."""
PATIENTS = 120 if DOCS_IMAGES else 6
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,2100",
)

# Finds elements through Bokeh's shadow roots (each component renders in its own).
FIND_DEEP = """
const selector = arguments[0];
const found = [];
function visit(root) {
  root.querySelectorAll(selector).forEach((e) => found.push(e));
  root.querySelectorAll('*').forEach((e) => { if (e.shadowRoot) visit(e.shadowRoot); });
}
visit(document);
return found;
"""


def deep_texts(driver: Any, selector: str) -> list[str]:
    """The text of every match, read in the page (grids re-render: element handles go stale)."""
    texts = driver.execute_script(
        FIND_DEEP.replace("return found;", "return found.map((e) => e.textContent.trim());"),
        selector,
    )
    return [str(t) for t in texts]


@dataclass(frozen=True)
class Dashboard:
    url: str
    lake: Lake


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "headless Chromium not installed (Debian: apt-get install chromium chromium-driver)"
        )
    from glucosestream.dashboard.server import serve_dashboard

    state = tmp_path_factory.mktemp("dashboard")
    lake = build_lake(
        state, patients=PATIENTS, days=28, kinesis_port=free_port(), moto_port=free_port()
    )
    stack.up(lake.settings)
    try:
        server = serve_dashboard(lake.settings, port=free_port())
        try:
            yield Dashboard(server.url, lake)
        finally:
            server.stop()
    finally:
        stack.down(lake.settings)


@pytest.fixture(scope="module")
def browser(dashboard: Dashboard) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="gs-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition: Callable[[], Any], timeout_s: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")


def model_text(driver: Any, name: str) -> str:
    text = driver.execute_script(
        "const d = window.Bokeh && Bokeh.documents[0];"
        "const m = d && d.get_model_by_name(arguments[0]); return m ? m.text : '';",
        name,
    )
    return str(text or "")


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """Browser console errors and warnings since the last call (reading clears them).

    Warnings count too: BokehJS reports layout and range problems (a figure it could not
    size, a table missing a dependency) as warnings, and the views have none."""
    return [entry for entry in driver.get_log("browser") if entry["level"] in {"SEVERE", "WARNING"}]


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    if DOCS_IMAGES:
        shutil.copyfile(path, project_path("docs", "img", f"dashboard_{name}.png"))
    return path
