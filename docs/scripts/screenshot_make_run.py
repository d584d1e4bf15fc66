"""The README's pictures of the dashboard while ``glucosestream demo`` (``make run``) runs.

Starts the demo on free ports in a temporary state directory (its own stack, backfill, workers,
live stream), waits until the scheduled pipeline has published marts, then photographs the
cohort triage, a patient's live view and the first patient's whole AGP report (down to the
all-metrics table) in headless Chromium (Debian ``chromium`` and ``chromium-driver``), and
stops everything.

    python docs/scripts/screenshot_make_run.py [--patients 50] [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageChops
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from glucosestream.local.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1500",
)  # fmt: skip
REPORT_MARGIN = 300
"""Pixels below the report's content (the window's own frame takes part of its height)."""


def trim_bottom(picture: Path, margin: int = 24) -> None:
    """Crop the white below the page's content (the window was made taller than the page)."""
    image = Image.open(picture).convert("RGB")
    content = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    if content is not None:
        image.crop((0, 0, image.width, min(image.height, content[3] + margin))).save(picture)


def wait_for(output: Path, needle: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if needle in output.read_text(errors="replace"):
            return
        time.sleep(1)
    raise SystemExit(f"the demo never printed {needle!r}; see {output}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        env = {
            **os.environ,
            "GS_STATE_DIR": state,
            "GS_KINESIS_PORT": str(free_port()),
            "GS_MOTO_PORT": str(free_port()),
            "GS_ENV": "demo",
        }
        output = Path(state) / "demo-output.txt"
        command = [
            str(Path(sys.executable).with_name("glucosestream")), "demo",
            "--patients", str(args.patients), "--pipeline-every", "30",
            "--dashboard-port", str(port),
        ]  # fmt: skip
        with output.open("w") as sink:
            demo = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
        driver = None
        try:
            wait_for(output, "pipeline: SUCCEEDED", timeout_s=600)
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for flag in FLAGS:
                options.add_argument(flag)
            options.add_argument(f"--user-data-dir={Path(state) / 'chromium'}")
            driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
            for view, name in (("cohort", "make_run_cohort"), ("live", "make_run_live")):
                driver.get(f"http://127.0.0.1:{port}/?view={view}")
                time.sleep(15 if view == "live" else 6)
                target = args.out / f"{name}.png"
                driver.save_screenshot(str(target))
                print(f"wrote {target}")
            # The report is a long page: the window is made as tall as it, so the picture
            # reaches the episode list and the all-metrics table.
            driver.get(f"http://127.0.0.1:{port}/?view=report")
            time.sleep(10)
            for _ in range(4):  # the page lays itself out again at each new window height
                height = int(driver.execute_script("return document.documentElement.scrollHeight"))
                if driver.get_window_size()["height"] >= height + REPORT_MARGIN:
                    break
                driver.set_window_size(1400, height + REPORT_MARGIN)
                time.sleep(3)
            target = args.out / "dashboard_report.png"
            driver.save_screenshot(str(target))
            trim_bottom(target)
            print(f"wrote {target}")
        finally:
            if driver is not None:
                driver.quit()
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(120)
            except subprocess.TimeoutExpired:
                demo.kill()
            print(output.read_text()[-1500:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
