"""The timed half of bench/first_hour.sh: wait for `make run` in the fresh root, then log in as the
demo user alice through the test IdP in Chromium, create a key, and use it in Ceph with boto3.

    first_hour.py T0 RUN_PID CHECKOUT LOG    (T0: `date +%s.%N` when make run started)

Prints first_hour_ready_s and first_hour_s on stdout, progress on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import chromium

BASE = "http://127.0.0.1:8000"
WAIT_SECONDS = 30 * 60


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_ready(t0: float, run_pid: int, log: Path) -> float:
    while time.time() - t0 < WAIT_SECONDS:
        try:
            if requests.get(BASE + "/health/live", timeout=5).status_code == 200:
                return time.time() - t0
        except requests.ConnectionError:
            pass
        if not _alive(run_pid):
            err(log.read_text()[-4000:])
            raise SystemExit("first-hour: make run stopped before serving; the log is above")
        time.sleep(0.5)
    raise SystemExit(f"first-hour: nothing served after {WAIT_SECONDS} s; see {log}")


def stack_settings(checkout: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (checkout / ".stack/dev/latchkey.env").read_text().splitlines())
    return {name: value.strip("'\"") for name, value in pairs}


def login_and_create_key() -> tuple[str, str]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(BASE + "/")
        page.get_by_role("button", name="MyAccessID (test)").click()
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-pass")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
        page.get_by_role("link", name="462000008").click()
        page.get_by_label("Key description").fill("my first key")
        page.get_by_label("Duration (hours)").fill("24")
        page.get_by_role("button", name="Generate key").click()
        expect(page.get_by_role("heading", name="Key created")).to_be_visible()
        return page.locator("#access-key").inner_text().strip(), page.locator("#secret-key").inner_text().strip()


def main() -> None:
    t0, run_pid, checkout, log = float(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    ready = wait_ready(t0, run_pid, log)
    err(f"first-hour: make run serves pages after {ready:.0f} s")
    access_key, secret = login_and_create_key()
    settings = stack_settings(checkout)
    s3 = boto3.client(
        "s3",
        endpoint_url=settings["LATCHKEY_S3_ENDPOINT"],
        region_name=settings.get("LATCHKEY_S3_REGION", "default"),
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )
    buckets = s3.list_buckets()["Buckets"]  # raises unless Ceph accepts the key
    done = time.time() - t0
    err(f"first-hour: alice's key works in Ceph ({len(buckets)} buckets listed)")
    print(f"first_hour_ready_s={ready:.0f}")
    print(f"first_hour_s={done:.0f}")


if __name__ == "__main__":
    main()
