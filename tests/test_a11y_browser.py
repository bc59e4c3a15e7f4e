"""Every main page in Chromium at 375 px: axe-core finds no serious or critical WCAG 2.1 A/AA
violation, nothing is wider than the screen, and a key is created with the keyboard alone.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import secrets

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from projects.models import Project
from tests.a11y import overflows, serious_violations
from tests.browser import ARTIFACTS, chromium

pytestmark = [pytest.mark.browser, pytest.mark.ceph]


def _check(page: Page, name: str, problems: dict[str, list[str]]) -> None:
    page.screenshot(path=str(ARTIFACTS / f"a11y-{name}.png"), full_page=True)
    found = serious_violations(page)
    if overflows(page):
        found.append("wider than the 375 px screen")
    if found:
        problems[name] = found


def _tab_to(page: Page, label: str, limit: int = 60) -> None:
    """Press Tab until the focused element is the one labelled ``label``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => { const e = document.activeElement; return e && e.labels && e.labels[0] ? "
                                "e.labels[0].textContent.trim() : (e ? e.textContent.trim() : ''); }")  # fmt: skip
        if focused.startswith(label):
            return
    raise AssertionError(f"Tab never reached {label!r}")


@pytest.mark.django_db(transaction=True)
def test_main_pages_are_accessible_and_fit_a_phone(live_server) -> None:  # type: ignore[no-untyped-def]
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"a11y{secrets.token_hex(4)}")
    connections.close_all()
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 375, "height": 800}, bypass_csp=True).new_page()
        page.goto(live_server.url + "/")
        _check(page, "login", problems)
        page.get_by_role("button", name="MyAccessID (test)").click()
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-pass")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
        _check(page, "projects", problems)
        page.get_by_role("link", name="462000008").click()
        _check(page, "project", problems)

        # The create-key path with the keyboard alone.
        _tab_to(page, "Key description")
        page.keyboard.type("keyboard only")
        _tab_to(page, "Duration (hours)")
        page.keyboard.press("Control+a")
        page.keyboard.type("3")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Key created")).to_be_visible()
        _check(page, "key-created", problems)

        page.goto(live_server.url + "/projects/462000008/")
        page.get_by_role("link", name="New bucket").click()
        _check(page, "bucket-new", problems)
        page.get_by_label("Bucket name").fill("a11y-data")
        page.get_by_role("button", name="Create bucket").click()
        expect(page.get_by_role("heading", name="Bucket a11y-data")).to_be_visible()
        _check(page, "bucket", problems)
        page.goto(live_server.url + "/projects/462000008/groups/")
        _check(page, "groups", problems)
        page.goto(live_server.url + "/projects/462000008/audit/")
        _check(page, "audit", problems)
        page.goto(live_server.url + "/projects/462000008/keys/")
        _check(page, "key-list", problems)
        page.locator("table a code").first.click()  # the key's own page
        _check(page, "key", problems)
    assert not problems, problems
