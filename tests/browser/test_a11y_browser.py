"""Every page in Chromium at 375 and 1280 px: axe-core finds no serious or critical WCAG 2.1 A/AA
violation, nothing is wider than the screen, and a key is created with the keyboard alone.
Screenshots of each width land in test-artifacts/. (The 400 and form-expired pages share the error pages'
layout; a browser cannot be made to send a foreign Host header or drop the CSRF token.)"""

from __future__ import annotations

import secrets

import pytest
import requests
from django.db import connections
from playwright.sync_api import Page, expect

from buckets.grants import GrantRequest, grant_create
from buckets.groups import group_create
from buckets.services import bucket_create
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from tests.support.a11y import check_page
from tests.support.browser import ARTIFACTS, chromium, idp_login

pytestmark = [pytest.mark.browser, pytest.mark.ceph]


def _check(page: Page, name: str, problems: dict[str, list[str]]) -> None:
    check_page(page, f"a11y-{name}", problems)


def _tab_to(page: Page, label: str, limit: int = 60) -> None:
    """Press Tab until the focused element is the one labelled ``label``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return e && e.labels && e.labels[0] ? "
            "e.labels[0].textContent.trim() : (e ? e.textContent.trim() : ''); }"
        )
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
        # With a live key the page draws the key timeline (an SVG and its table) too.
        expect(page.get_by_role("img", name="Key timeline: 1 key; it ends in 2 hours")).to_be_visible()
        page.get_by_text("The timeline as a table").click()
        _check(page, "project-timeline", problems)
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("many_device_logins")
def test_every_other_page_is_accessible_and_fits_a_phone(live_server, settings, make_user) -> None:  # type: ignore[no-untyped-def]
    """Confirmations, the bucket policy, groups, joining, the re-login prompt, the CLI's device
    login, logging out, and the error pages (403, 404, 429, a failed IdP login)."""
    tag = secrets.token_hex(4)
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"a11yb{tag}")
    Project.objects.create(number="462000009", title="Genome assembly", tenant=f"a11yc{tag}")
    connections.close_all()
    problems: dict[str, list[str]] = {}
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 375, "height": 800}, bypass_csp=True).new_page()
        idp_login(page, live_server.url)

        manager = Membership.objects.get(project__number="462000008", role=Role.MANAGER)
        bob = Membership.objects.create(user=make_user("bob"), project=manager.project, role=Role.MEMBER)
        key = key_create(membership=manager, hours=2, description="for the pages").key
        bucket = bucket_create(membership=manager, name="pages-data")
        group = group_create(project=manager.project, name="analysts")
        grant = grant_create(actor=manager.user, bucket=bucket, request=GrantRequest(kind="member", member_id=bob.pk))
        own_in_other = Membership.objects.get(project__number="462000009", user=manager.user)
        base = f"{live_server.url}/projects/462000008"
        pages = {
            "join": f"{live_server.url}/projects/join/",
            "key-delete": f"{base}/keys/{key.access_key_id}/delete/",
            "bucket-delete": f"{base}/buckets/pages-data/delete/",
            "bucket-policy": f"{base}/buckets/pages-data/policy/",
            "grant-revoke": f"{base}/buckets/pages-data/grants/{grant.pk}/revoke/",
            "group": f"{base}/groups/{group.pk}/",
            "group-delete": f"{base}/groups/{group.pk}/delete/",
            "member-remove": f"{base}/members/{bob.pk}/remove/",
            "error-403": f"{live_server.url}/projects/462000009/members/{own_in_other.pk}/remove/",
            "error-404": f"{live_server.url}/projects/999999999999/",
            "login-failed": f"{live_server.url}/accounts/oidc/myaccessid/login/callback/?error=access_denied&state=x",
        }
        for name, url in pages.items():
            page.goto(url)
            _check(page, name, problems)
        assert "Not allowed" in page.goto(pages["error-403"]).text()  # type: ignore[union-attr]

        settings.LATCHKEY_REAUTH_SECONDS = 0  # the IdP login is too old to show a secret
        page.goto(f"{base}/keys/{key.access_key_id}/")
        page.get_by_role("button", name="Show secret key and client configs").click()
        expect(page.get_by_role("button", name="Sign in again")).to_be_visible()
        _check(page, "reauth", problems)

        # The CLI's device login, as a person sees it after `latchkey login`.
        started = requests.post(
            f"{live_server.url}/identity/o/api/device/code",
            data={"client_id": "latchkey-cli", "scope": "openid"},
            timeout=30,
        )
        page.goto(f"{live_server.url}/identity/o/device")
        _check(page, "device-code", problems)
        page.goto(f"{live_server.url}/identity/o/device?code={started.json()['user_code']}")
        _check(page, "device-confirm", problems)

        settings.LATCHKEY_RATE_LIMITS = {**settings.LATCHKEY_RATE_LIMITS, "key_create": "0/600"}
        page.goto(f"{base}/")
        page.get_by_label("Key description").fill("one too many")
        page.get_by_role("button", name="Generate key").click()
        expect(page.get_by_role("heading", name="Too many requests")).to_be_visible()
        _check(page, "error-429", problems)

        page.goto(f"{live_server.url}/accounts/logout/")
        _check(page, "logout", problems)
    assert not problems, problems
