"""The operators' overview in Chromium, as an operator reaches it: through the Django admin's
login, with something in every section. At desktop and phone width: axe-core finds no serious or
critical WCAG 2.1 A/AA violation, nothing is wider than the screen, and the page breaks no rule of
the Content Security Policy. Screenshots land in test-artifacts/."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from buckets.models import Bucket
from heartbeats.services import heartbeat_completed
from keys.models import AccessKey
from keys.selectors import SWEEP
from lifecycle.memberships import STALE
from lifecycle.recheck import RECHECK
from projects.models import Membership, Project
from tests.support.a11y import overflows, serious_violations
from tests.support.browser import ARTIFACTS, chromium

pytestmark = [pytest.mark.browser, pytest.mark.ceph]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 800}}


def _something_in_every_section(make_user) -> None:  # type: ignore[no-untyped-def]
    now, tag = timezone.now(), secrets.token_hex(4)
    project = Project.objects.create(
        number="462000077",
        title="Ocean reanalysis with a long title",
        tenant=f"ov{tag}",
        quota_bytes=10**12,
        usage_bytes=96 * 10**10,
        usage_at=now,
    )
    member = make_user("researcher-with-a-long-name")
    Membership.objects.create(user=member, project=project, rgw_access=STALE)
    Bucket.objects.create(project=project, name="climate-model-output-2026", policy_dirty=True)
    for hours in (3, 20):
        AccessKey.objects.create(
            access_key_id="LK" + secrets.token_hex(9).upper(),
            project=project,
            owner=member,
            description="run",
            status=AccessKey.Status.ACTIVE,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    heartbeat_completed(name=SWEEP, summary={"expired": 3, "cleaned": 0, "scheduled": 2, "failed": 1})
    heartbeat_completed(name=RECHECK, summary={"myaccessid": {"ok": 12, "unavailable": 1}})


@pytest.mark.django_db(transaction=True)
def test_the_overview_is_accessible_at_desktop_and_phone_width(live_server, make_user) -> None:  # type: ignore[no-untyped-def]
    password = secrets.token_urlsafe(16)
    operator = User.objects.create_user(
        username=f"operator-{secrets.token_hex(3)}", password=password, is_staff=True, is_superuser=True
    )
    _something_in_every_section(make_user)
    connections.close_all()
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    with chromium() as browser:
        for name, viewport in WIDTHS.items():
            # bypass_csp: axe is injected as a script; the CSP is checked in a context of its own below.
            page = browser.new_context(viewport=viewport, bypass_csp=True).new_page()  # type: ignore[arg-type]
            page.goto(f"{live_server.url}/admin/login/?next=/operators/")
            page.get_by_label("Username").fill(operator.username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Operator overview", level=1)).to_be_visible()
            expect(page.get_by_role("table", name="The checks of /health/ready")).to_be_visible()
            expect(page.get_by_role("link", name="462000077", exact=True)).to_be_visible()
            expect(page.get_by_role("link", name="Overview")).to_be_visible()  # the header link, operators only
            page.screenshot(path=str(ARTIFACTS / f"overview-{name}.png"), full_page=True)
            found = serious_violations(page)
            if overflows(page):
                found.append(f"wider than the {viewport['width']} px screen")
            if found:
                problems[name] = found
            cookies = page.context.cookies()
            page.context.close()

        strict = browser.new_context(viewport=WIDTHS["phone"])  # type: ignore[arg-type]
        strict.add_cookies(cookies)  # type: ignore[arg-type]
        page = strict.new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{live_server.url}/operators/")
        expect(page.get_by_role("heading", name="Operator overview", level=1)).to_be_visible()
        if refused:
            problems["csp"] = refused
    assert not problems, problems
