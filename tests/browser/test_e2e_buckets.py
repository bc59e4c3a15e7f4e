"""Buckets in the browser, for real: a manager creates a bucket, is stopped by the public
warning, confirms it, and an anonymous client can then list the bucket until the grant is
revoked (with confirmation). Phone-sized viewport, keyboard-reachable controls."""

from __future__ import annotations

import secrets

import pytest
import requests
from django.conf import settings
from django.db import connections
from playwright.sync_api import expect

from projects.models import Project
from tests.support.browser import chromium, idp_login

pytestmark = [pytest.mark.browser, pytest.mark.ceph]


@pytest.mark.django_db(transaction=True)
def test_manager_creates_a_bucket_and_makes_it_public_only_after_confirming(live_server) -> None:  # type: ignore[no-untyped-def]
    tenant = f"e2b{secrets.token_hex(4)}"
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=tenant)
    connections.close_all()  # the live server's thread opens its own
    listing = f"{settings.LATCHKEY_S3_ENDPOINT}/{tenant}:open-data"

    with chromium() as browser:
        page = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
        idp_login(page, live_server.url)
        page.get_by_role("link", name="462000008").click()

        page.get_by_role("link", name="New bucket").click()
        page.get_by_label("Bucket name").fill("Open_Data")
        page.get_by_role("button", name="Create bucket").click()
        expect(page.get_by_role("alert")).to_contain_text("lowercase letters")
        page.get_by_label("Bucket name").fill("open-data")
        page.get_by_role("button", name="Create bucket").click()
        expect(page.get_by_role("heading", name="Bucket open-data")).to_be_visible()
        assert requests.get(listing, timeout=10).status_code == 403

        page.get_by_label("The public (anonymous read)").check()
        page.get_by_role("button", name="Grant", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text("Confirm that anyone on the internet")
        assert requests.get(listing, timeout=10).status_code == 403

        page.get_by_label("The public (anonymous read)").check()
        page.get_by_label("I understand that a public grant").check()
        page.get_by_role("button", name="Grant", exact=True).click()
        expect(page.get_by_role("row", name="the public")).to_be_visible()
        assert requests.get(listing, timeout=10).status_code == 200

        page.get_by_role("link", name="Revoke grant for the public").click()
        page.get_by_role("button", name="Revoke grant").click()
        expect(page.get_by_text("No grants beyond the project's members.")).to_be_visible()
        assert requests.get(listing, timeout=10).status_code == 403

        page.get_by_role("link", name="View the effective policy").click()
        # Only the statement every bucket carries is left: its members read its settings.
        held = page.get_by_label("Bucket policy JSON")
        expect(held).to_contain_text('"Sid": "latchkey-members-bucket-settings"')
        expect(held).not_to_contain_text("latchkey-grant-")
