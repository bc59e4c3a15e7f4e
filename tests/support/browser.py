"""Headless Debian Chromium driven by Playwright (no browser download: the system build)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.a11y import ARTIFACTS as ARTIFACTS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def save_downloads_where_chromium_names_them(page: Page, folder: Path) -> None:
    """From now on, Chromium itself writes this page's downloads into ``folder`` under the names
    it chooses, as it would for a user (Playwright's own download handling keeps random names)."""
    target = page.context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
    browser = page.context.browser
    assert browser is not None
    browser.new_browser_cdp_session().send(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(folder), "browserContextId": target["browserContextId"]},
    )


DEMO_ALICE = ("alice", "alice-pass")  # idp/accounts.json: test data, not a secret


def idp_login(
    page: Page,
    base_url: str,
    provider: str = "MyAccessID (test)",
    user: str = DEMO_ALICE[0],
    password: str = DEMO_ALICE[1],
) -> None:
    """From Latchkey's login page through the test IdP's form, back to the project list."""
    page.goto(base_url + "/")
    page.get_by_role("button", name=provider).click()
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
