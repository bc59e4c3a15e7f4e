"""A provider that times out or answers garbage, served for real on loopback: the API refuses
its tokens with 401 (never a 500) and the background re-check changes nothing, for every way
it misbehaves."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from allauth.idp.oidc.models import Token
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts import upstream
from accounts.models import UpstreamGrant
from accounts.services import upstream_grant_store
from lifecycle.recheck import account_recheck
from portal.oidc_config import ProviderTrust
from projects.models import Membership

MODES = ["slow", "not-json", "json-list", "html-500", "empty-200", "wrong-shape"]


class _Broken(BaseHTTPRequestHandler):
    mode = "slow"
    issuer = ""

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path.endswith("/.well-known/openid-configuration"):
            endpoints = {
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/me",
                "introspection_endpoint": f"{base}/introspect",
                "jwks_uri": f"{base}/jwks",
            }
            self._send(200, json.dumps({"issuer": base, **endpoints}).encode())
        elif self.mode == "slow":
            time.sleep(2)
            self._send(200, b"{}")
        elif self.mode == "not-json":
            self._send(200, b"<html>maintenance</html>", "text/html")
        elif self.mode == "json-list":
            self._send(200, b'["active", true]')
        elif self.mode == "html-500":
            self._send(500, b"<h1>Internal Server Error</h1>", "text/html")
        elif self.mode == "empty-200":
            self._send(200, b"")
        else:  # wrong-shape: JSON objects with the wrong types everywhere
            self._send(200, json.dumps({"access_token": 5, "active": "yes", "sub": ["x"], "error": None}).encode())

    do_GET = do_POST = _answer


@pytest.fixture
def broken(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Broken]]:  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    app = {
        "provider_id": "broken",
        "name": "Broken",
        "client_id": "latchkey",
        "secret": "s",
        "settings": {"server_url": issuer, "scope": ["openid"]},
    }
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": [app]}}
    settings.LATCHKEY_PROVIDER_TRUST = {
        "broken": ProviderTrust(("urn:x:",), api_clients=("cli",), api_audience="urn:latchkey:api")
    }
    monkeypatch.setattr(upstream, "TIMEOUT", 0.5)
    _Broken.issuer = issuer
    yield _Broken
    server.shutdown()


@pytest.mark.django_db
@pytest.mark.parametrize("local", [False, True], ids=["introspection", "jwks"])
@pytest.mark.parametrize("mode", MODES)
def test_the_api_refuses_tokens_of_a_broken_provider(broken: type[_Broken], mode: str, local: bool, settings) -> None:  # type: ignore[no-untyped-def]
    broken.mode = mode
    settings.LATCHKEY_PROVIDER_TRUST = {
        "broken": replace(settings.LATCHKEY_PROVIDER_TRUST["broken"], api_jwt_local=local)
    }
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "iss": broken.issuer,
        "sub": "sub-1",
        "exp": int(time.time()) + 60,
        "client_id": "cli",
        "aud": "urn:latchkey:api",
    }
    signed = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1", "typ": "at+jwt"})
    for token in ("opaque-token-value", signed):
        response = Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401, (mode, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", MODES)
def test_the_recheck_changes_nothing_when_the_provider_misbehaves(broken, mode: str, make_user, project) -> None:  # type: ignore[no-untyped-def]
    broken.mode = mode
    user = make_user("held")
    account = SocialAccount.objects.create(user=user, provider="broken", uid="sub-1")
    Membership.objects.create(user=user, project=project, source="idp:broken")
    upstream_grant_store(account=account, refresh_token="stored")
    Token.objects.create(type=Token.Type.REFRESH_TOKEN, hash="cli", user=user)

    assert account_recheck(account=account) == "unavailable"
    grant = UpstreamGrant.objects.get(account=account)
    assert grant.outcome == UpstreamGrant.Outcome.UNAVAILABLE and grant.detail
    assert Membership.objects.get(user=user).status == Membership.Status.ACTIVE
    assert Token.objects.filter(user=user).exists()
