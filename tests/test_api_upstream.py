"""The API accepts an access token from the upstream IdP (as oidc-agent would hold), checked at
that IdP's userinfo endpoint: the test IdP's device grant, approved in Chromium, gives the token."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import connections
from playwright.sync_api import expect

from accounts.models import User
from projects.models import Membership, Project, Role
from tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.ceph]


def _upstream_token(issuer: str, user: str, password: str) -> str:
    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    start = {"client_id": "latchkey-cli", "scope": "openid profile"}
    device = requests.post(config["device_authorization_endpoint"], data=start, timeout=10).json()
    with chromium() as browser:
        page = browser.new_page()
        page.goto(device["verification_uri"])
        page.get_by_label("Code").fill(device["user_code"])
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Continue").click()  # "check that your device shows this code"
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Your device is signed in.")).to_be_visible()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = requests.post(config["token_endpoint"], timeout=10, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device["device_code"],
            "client_id": "latchkey-cli"}).json()  # fmt: skip
        if "access_token" in answer:
            return str(answer["access_token"])
        time.sleep(1)
    raise AssertionError("the test IdP issued no token")


@pytest.mark.django_db(transaction=True)
def test_upstream_access_token_works_only_for_an_account_that_logged_in(live_server) -> None:  # type: ignore[no-untyped-def]
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"up{secrets.token_hex(4)}")
    connections.close_all()
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    issuer = next(a["settings"]["server_url"] for a in apps if a["provider_id"] == "myaccessid")
    token = _upstream_token(issuer, "alice", "alice-pass")
    api = f"{live_server.url}/api/v1/projects/"
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}

    before = requests.get(api, headers=headers, timeout=10)
    assert before.status_code == 401 and "in a browser once" in before.json()["detail"]

    # alice logs in to Latchkey once, through the same provider: now her IdP token is enough.
    user = User.objects.create_user(username="alice-up")
    sub = requests.get(requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()[
        "userinfo_endpoint"], headers=headers, timeout=10).json()["sub"]  # fmt: skip
    SocialAccount.objects.create(user=user, provider="myaccessid", uid=sub)
    Membership.objects.create(user=user, project=Project.objects.get(number="462000008"), role=Role.MEMBER)
    connections.close_all()
    after = requests.get(api, headers=headers, timeout=10)
    assert after.status_code == 200 and [p["number"] for p in after.json()] == ["462000008"]
    wrong = requests.get(api, headers={"Authorization": "Bearer " + token[::-1]}, timeout=10)
    assert wrong.status_code == 401
