"""The API as a client calls it: an access token through the device grant (as the CLI gets one,
approved in a browser session) and a caller that sends it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.test import Client

from accounts.models import User
from tests.support.web import client_for


def device_token(user: User, *, fresh_login: bool = False, answer: dict[str, Any] | None = None) -> str:
    """An access token for ``user`` through the device authorization grant, as the CLI gets it,
    approved in a browser session whose IdP login was just now (``fresh_login``) or an hour ago.
    ``answer`` receives the whole token response."""
    anonymous = Client()
    form = "application/x-www-form-urlencoded"
    start = anonymous.post(
        "/identity/o/api/device/code", urlencode({"client_id": "latchkey-cli", "scope": "openid profile"}), form
    )
    assert start.status_code == 200, start.content
    device = start.json()
    browser = client_for(user, fresh_login=fresh_login)
    approve = browser.post(f"/identity/o/device?code={device['user_code']}", {"action": "confirm"})
    assert approve.status_code == 200
    token = anonymous.post(
        "/identity/o/api/token",
        urlencode(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device["device_code"],
                "client_id": "latchkey-cli",
            }
        ),
        form,
    )
    assert token.status_code == 200, token.content
    if answer is not None:
        answer.update(token.json())
    return str(token.json()["access_token"])


class Api:
    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        call = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"content_type": "application/json"} if body is not None else {}
        return (
            call(f"/api/v1/{path}", body, **kwargs, **self.headers)
            if body is not None
            else call(f"/api/v1/{path}", **self.headers)
        )
