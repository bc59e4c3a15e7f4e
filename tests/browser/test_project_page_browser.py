"""The project page in Chromium as people see it on a desktop and on a phone: the way to make a
key is in the first screen, the page's order is keys, buckets, storage, members, the chart's and
the timeline's text is 12 px or more wherever they are drawn, and nothing the page asks for is
missing (the favicon included). Screenshots land in test-artifacts/ (project-page-*.png)."""

from __future__ import annotations

import secrets

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from heartbeats.services import heartbeat_completed
from keys.selectors import SWEEP
from lifecycle.keys import key_create
from projects.models import Membership, Role
from tests.support.browser import ARTIFACTS, chromium, idp_login
from tests.support.usage import charted_project

pytestmark = [pytest.mark.browser, pytest.mark.ceph]

# Each drawn (not hidden) text of the usage chart and the key timeline, with its size on screen:
# its font size in viewBox units times the SVG's scale.
TEXT_SIZES = """() => [...document.querySelectorAll('figure.usage-chart svg text, figure.timeline svg text')]
  .filter(t => getComputedStyle(t).display !== 'none')
  .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a])"""


def _first_screen(page: Page, height: int, *names: tuple[str, str]) -> list[str]:
    """Those of ``names`` ((role or "label", name)) not wholly within the first ``height`` px."""
    below = []
    for kind, name in names:
        found = page.get_by_label(name) if kind == "label" else page.get_by_role(kind, name=name)  # type: ignore[arg-type]
        box = found.first.bounding_box()
        if box is None or box["y"] + box["height"] > height:
            below.append(name)
    return below


@pytest.mark.django_db(transaction=True)
def test_the_project_page_leads_with_keys_at_both_widths(live_server) -> None:  # type: ignore[no-untyped-def]
    project = charted_project(tenant=f"pp{secrets.token_hex(4)}")
    connections.close_all()
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        idp_login(page, live_server.url)
        manager = Membership.objects.get(project=project, role=Role.MANAGER)
        key_create(membership=manager, hours=30, description="nightly ensemble job")
        connections.close_all()
        missing: list[str] = []
        page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
        for width, height in ((1280, 800), (375, 812), (320, 640)):
            # Expiry enforced, as with a worker running (else managers see a warning first).
            heartbeat_completed(name=SWEEP, summary={})
            connections.close_all()
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{live_server.url}/projects/462000008/")
            expect(page.get_by_role("img", name="Usage of the project over 30 days")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"project-page-{width}.png"), full_page=True)
            if width != 320:  # the first screen of the two sizes people use most
                first = (("label", "Key description"), ("label", "Duration (hours)"), ("button", "Generate key"))
                assert _first_screen(page, height, *first) == [], f"below the first screen at {width} px"
            assert page.locator("main h2").all_inner_texts() == ["Your access keys", "Buckets", "Storage", "Members"]
            order = page.locator("main h3").all_inner_texts()
            assert order[:2] == ["Create a key", "Active keys"]
            sizes = page.evaluate(TEXT_SIZES)
            small = [(text, round(px, 1)) for text, px in sizes if px < 12]
            assert len(sizes) > 10 and not small, f"text under 12 px at {width} px: {small}"
        assert not missing, missing
        icon = page.request.get(f"{live_server.url}/favicon.ico")
        assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
        linked = page.locator("link[rel=icon]").get_attribute("href")
        assert linked and page.request.get(f"{live_server.url}{linked}").ok
