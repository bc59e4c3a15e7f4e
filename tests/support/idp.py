"""The test IdP (idp/server.js) as the tests drive it: issuers, its request log, and its
loopback-only run-time controls for removing someone while everything runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from django.conf import settings
from playwright.sync_api import expect

from tests.support import ROOT
from tests.support.browser import chromium

IDP_LOG = ROOT / ".stack/test/idp/idp.log"
T = TypeVar("T")


def issuer(provider: str) -> str:
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    return str(next(a["settings"]["server_url"] for a in apps if a["provider_id"] == provider))


def _origin() -> str:
    return issuer("myaccessid").rsplit("/", 1)[0]


def idp_change(provider: str, username: str, **changes: Any) -> dict[str, Any]:
    """``entitlements=[...]`` and/or ``disabled=True`` for one account, at once."""
    answer = requests.post(f"{_origin()}/_admin/{provider}/accounts/{username}", json=changes, timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


def idp_reset() -> None:
    requests.post(f"{_origin()}/_admin/reset", json={}, timeout=10).raise_for_status()


def idp_paths_during(call: Callable[[], T]) -> tuple[T, list[str]]:
    """What ``call`` returned and the paths the test IdP served meanwhile, from its own log."""
    start = IDP_LOG.stat().st_size
    result = call()
    time.sleep(0.2)
    with IDP_LOG.open() as log:
        log.seek(start)
        lines = [line.split() for line in log]
    return result, [w[2] for w in lines if len(w) > 3 and w[1] in ("GET", "POST")]


def upstream_token(
    issuer: str,
    user: str,
    password: str,
    client_id: str = "latchkey-cli",
    scope: str = "openid api",
    resource: str | None = "urn:latchkey:api",
) -> str:
    """An access token from the test IdP's device grant: by default a JWT for Latchkey's API
    (RFC 8707 resource, RFC 9068); ``resource=None`` gives an opaque token for userinfo."""
    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    target = {"resource": resource} if resource else {}
    start = {"client_id": client_id, "scope": scope, **target}
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
        answer = requests.post(
            config["token_endpoint"],
            timeout=10,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device["device_code"],
                "client_id": client_id,
                **target,
            },
        ).json()
        if "access_token" in answer:
            return str(answer["access_token"])
        time.sleep(1)
    raise AssertionError("the test IdP issued no token")
