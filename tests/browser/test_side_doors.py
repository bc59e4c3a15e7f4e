"""Side doors tried as an attacker tries them, through Chromium and the real test IdP."""

from __future__ import annotations

import secrets

import pytest
from django.db import connections
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import User
from projects.members import invitation_create
from projects.models import Invitation, Membership, Project, Role
from tests.support.browser import chromium, idp_login

pytestmark = [pytest.mark.browser]


def _invite(number: str, email: str) -> Invitation:
    project = Project.objects.create(number=number, title=f"Project {number}", tenant=f"e2s{secrets.token_hex(4)}")
    boss = User.objects.create_user(username=f"boss-{secrets.token_hex(3)}", first_name="Bea", last_name="Boss")
    actor = Membership.objects.create(user=boss, project=project, role=Role.MANAGER)
    return invitation_create(actor=actor, email=email, role=Role.MANAGER)


def _connect(page: Page, base_url: str, provider: str, user: str, password: str) -> None:
    """Account → Connected identities → add another provider's identity, through its login form."""
    page.goto(base_url + "/accounts/3rdparty/")
    page.get_by_role("link", name=provider).click()
    continue_button = page.get_by_role("button", name="Continue")
    if continue_button.count():
        continue_button.click()
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_an_invitation_is_not_taken_with_an_address_from_one_idp_and_an_identity_from_another(live_server) -> None:  # type: ignore[no-untyped-def]
    """H1: HAKA's alice (the same address, another person) connects an outsider's MyAccessID identity,
    which 462000008 trusts, and tries to take the manager invitation meant for MyAccessID's alice."""
    invitation = _invite("462000008", "alice@example.org")
    own = _invite("462000012", "alice@example.org")  # HAKA is trusted for 462000010-19
    with chromium() as browser:
        page = browser.new_page()
        idp_login(page, live_server.url, "HAKA (test)", "alice", "alice-pass")
        _connect(page, live_server.url, "MyAccessID (test)", "dave", "dave-pass")
        page.goto(live_server.url + "/projects/")
        offer = page.get_by_role("listitem").filter(has_text="462000008")
        expect(offer).to_contain_text("log in with MyAccessID (test) to accept it")
        expect(offer).to_contain_text("from Bea Boss")
        expect(offer.get_by_role("button", name="Accept invitation to 462000008")).to_have_count(0)
        # The POST the page does not offer, sent anyway with the session and its CSRF token.
        token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value") or ""
        forged = page.request.post(
            live_server.url + reverse("projects:invitation_accept", args=[invitation.pk]),
            form={"csrfmiddlewaretoken": token},
            headers={"Referer": live_server.url + "/projects/"},
        )
        assert "accepts invitations only from identities of the providers it trusts" in forged.text()
        # Her own invitation, to a project that trusts HAKA, she takes as before.
        page.get_by_role("button", name="Accept invitation to 462000012").click()
        expect(page.get_by_role("link", name="462000012")).to_be_visible()
    connections.close_all()
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING
    assert (
        not Membership.objects.filter(project__number="462000008", role=Role.MANAGER)
        .exclude(user__username__startswith="boss-")
        .exists()
    )
    assert Invitation.objects.get(pk=own.pk).status == Invitation.Status.ACCEPTED
