"""The usage charts in Chromium, as people see them: with data, empty, at phone width; axe finds
no serious or critical violation; the range links and the CSV download work. Screenshots land
in test-artifacts/ (usage-*.png)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from projects.models import Project
from tests.support.a11y import check_page
from tests.support.browser import ARTIFACTS, chromium, idp_login
from tests.support.usage import charted_project

pytestmark = [pytest.mark.browser]


def _check(page: Page, name: str, problems: dict[str, list[str]]) -> None:
    check_page(page, f"usage-{name}", problems)


@pytest.mark.django_db(transaction=True)
def test_usage_charts_with_data_empty_and_on_a_phone(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tag = secrets.token_hex(4)
    charted_project(tenant=f"uc{tag}")
    Project.objects.create(number="462000009", title="Genome assembly", tenant=f"ud{tag}")
    connections.close_all()
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    with chromium() as browser:
        desk = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, accept_downloads=True)
        page = desk.new_page()
        idp_login(page, live_server.url)
        page.goto(f"{live_server.url}/projects/462000008/")
        chart = page.get_by_role("img", name="Usage of the project over 30 days")
        expect(chart).to_be_visible()
        assert page.locator("figure.usage-chart > svg path.uc-line").count() == 4
        assert page.locator("figure.usage-chart > svg line.uc-quota").count() == 1
        page.locator("figure.usage-chart").screenshot(path=str(ARTIFACTS / "usage-chart-30d.png"))
        _check(page, "project-desktop", problems)

        page.get_by_role("link", name="1 year", exact=True).click()
        expect(page.get_by_role("img", name="Usage of the project over 1 year")).to_be_visible()
        expect(page.get_by_role("link", name="1 year", exact=True)).to_have_attribute("aria-current", "page")
        page.get_by_text("The chart as a table").click()
        expect(page.get_by_role("columnheader", name="Week of")).to_be_visible()
        page.locator("figure.usage-chart").screenshot(path=str(ARTIFACTS / "usage-chart-1y-table.png"))
        _check(page, "project-1y-table", problems)

        with page.expect_download() as download:
            page.get_by_role("link", name="Download every point of 1 year (CSV)").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == "latchkey-usage-462000008.csv"
        lines = saved.read_text().splitlines()
        assert lines[0] == "time,bucket,bytes,objects" and len(lines) == 1 + 4 * (45 * 24 + 1 - 24)

        page.goto(f"{live_server.url}/projects/462000008/buckets/raw/")
        expect(page.get_by_role("img", name="Usage of bucket raw over 30 days")).to_be_visible()
        _check(page, "bucket-desktop", problems)

        page.goto(f"{live_server.url}/projects/462000009/")
        expect(page.get_by_text("No usage recorded in the last 30 days.")).to_be_visible()
        assert page.locator("figure.usage-chart").count() == 0
        _check(page, "empty-desktop", problems)

        phone = browser.new_context(
            viewport={"width": 375, "height": 800}, bypass_csp=True, storage_state=desk.storage_state()
        )
        page = phone.new_page()
        page.goto(f"{live_server.url}/projects/462000008/?range=7d")
        expect(page.get_by_role("img", name="Usage of the project over 7 days")).to_be_visible()
        page.get_by_text("The chart as a table").click()
        page.locator("figure.usage-chart").screenshot(path=str(ARTIFACTS / "usage-chart-7d-phone.png"))
        _check(page, "project-phone", problems)
        page.goto(f"{live_server.url}/projects/462000009/")
        _check(page, "empty-phone", problems)
    assert not problems, problems
