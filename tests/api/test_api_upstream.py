"""The API accepts an access token from the upstream IdP (as oidc-agent would hold) only from a
provider configured for API tokens and only if issued to a client Latchkey accepts, checked by
introspection at that provider alone; the test IdP's device grant, approved in Chromium, gives
the tokens. The IdP's own request log shows which provider was asked."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import replace
from typing import Any

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import connections
from playwright.sync_api import expect

from accounts.models import User
from api.authentication import _accepting_providers
from projects.models import Membership, Project, Role
from tests.support.browser import chromium
from tests.support.idp import idp_paths_during

pytestmark = [pytest.mark.browser, pytest.mark.ceph]


def _upstream_token(issuer: str, user: str, password: str, client_id: str = "latchkey-cli",
                    scope: str = "openid profile eduperson_entitlement",
                    resource: str | None = None) -> str:  # fmt: skip
    """An access token from the test IdP's device grant; with ``resource``, a JWT for that
    resource server (RFC 8707, RFC 9068) rather than an opaque token for userinfo."""
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
        answer = requests.post(config["token_endpoint"], timeout=10, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device["device_code"],
            "client_id": client_id, **target}).json()  # fmt: skip
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
    connections.close_all()
    after = requests.get(api, headers=headers, timeout=10)
    assert after.status_code == 200 and [p["number"] for p in after.json()] == ["462000008"]
    # The claims behind the token re-synced her memberships: the IdP says manager of 462000008.
    membership = Membership.objects.get(user=user)
    assert (membership.role, membership.source) == (Role.MANAGER, "idp:myaccessid")

    # A token without the entitlement scope says nothing of memberships: they stay as they are.
    narrow = _upstream_token(issuer, "alice", "alice-pass", scope="openid profile")
    connections.close_all()
    assert requests.get(api, headers={"Authorization": f"Bearer {narrow}"}, timeout=10).status_code == 200
    assert Membership.objects.get(user=user).role == Role.MANAGER
    wrong = requests.get(api, headers={"Authorization": "Bearer " + token[::-1]}, timeout=10)
    assert wrong.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_tokens_for_another_service_or_bogus_are_refused_and_reach_no_other_provider(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RATE_LIMITS = {**settings.LATCHKEY_RATE_LIMITS, "bearer_failure": "3/60"}
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    issuer = next(a["settings"]["server_url"] for a in apps if a["provider_id"] == "myaccessid")
    user = User.objects.create_user(username="alice-other")
    token = _upstream_token(issuer, "alice", "alice-pass", client_id="other-service")
    sub = requests.get(f"{issuer}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["sub"]
    SocialAccount.objects.create(user=user, provider="myaccessid", uid=sub)  # she has logged in once
    connections.close_all()
    api = f"{live_server.url}/api/v1/projects/"

    def call(bearer: str):  # type: ignore[no-untyped-def]
        return lambda: requests.get(api, headers={"Authorization": f"Bearer {bearer}"}, timeout=10)

    refused, asked = idp_paths_during(call(token))
    assert refused.status_code == 401 and "not valid here" in refused.json()["detail"]
    assert "/myaccessid/token/introspection" in asked  # the one provider that accepts API tokens
    assert not [path for path in asked if path.startswith("/haka")]  # HAKA never saw the token
    assert "/myaccessid/me" not in asked  # nothing was read on the strength of a foreign token

    again, asked = idp_paths_during(call(token))
    assert again.status_code == 401 and asked == []  # the refusal is cached: no second round trip
    assert call("not-a-token")().status_code == 401
    limited = call("also-not-a-token")()
    assert limited.status_code == 429 and "Too many invalid access tokens" in limited.json()["detail"]
    assert not Membership.objects.exists()


@pytest.mark.django_db
def test_a_jwt_is_sent_only_to_the_provider_its_issuer_names(settings) -> None:  # type: ignore[no-untyped-def]
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    issuers = {a["provider_id"]: a["settings"]["server_url"] for a in apps}
    forged_for = jwt.encode({"iss": issuers["haka"], "sub": "x"}, "k" * 32, algorithm="HS256")
    assert _accepting_providers(forged_for) == []  # HAKA accepts no API tokens; MyAccessID is not asked
    own = jwt.encode({"iss": issuers["myaccessid"], "sub": "x"}, "k" * 32, algorithm="HS256")
    assert [a["provider_id"] for a in _accepting_providers(own)] == ["myaccessid"]
    assert [a["provider_id"] for a in _accepting_providers("opaque-token")] == ["myaccessid"]


@pytest.mark.django_db(transaction=True)
def test_a_jwt_access_token_is_verified_here_against_the_providers_keys(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    """The test IdP's RFC 9068 tokens (resource urn:latchkey:api) with MyAccessID set to verify
    JWTs here: signature, issuer, expiry and client checked without introspection, and the
    token's own entitlements re-sync memberships."""
    settings.LATCHKEY_PROVIDER_TRUST = {
        **settings.LATCHKEY_PROVIDER_TRUST,
        "myaccessid": replace(settings.LATCHKEY_PROVIDER_TRUST["myaccessid"], api_jwt_local=True),
    }
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"jw{secrets.token_hex(4)}")
    user = User.objects.create_user(username="alice-jwt")
    SocialAccount.objects.create(user=user, provider="myaccessid", uid="beac8169-1255-4475-a9df-49944ca57d99")
    connections.close_all()
    issuer = next(a["settings"]["server_url"] for a in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
                  if a["provider_id"] == "myaccessid")  # fmt: skip
    token = _upstream_token(issuer, "alice", "alice-pass", scope="openid api", resource="urn:latchkey:api")
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    api = f"{live_server.url}/api/v1/projects/"

    def call(bearer: str):  # type: ignore[no-untyped-def]
        return lambda: requests.get(api, headers={"Authorization": f"Bearer {bearer}"}, timeout=10)

    accepted, asked = idp_paths_during(call(token))
    assert accepted.status_code == 200 and [p["number"] for p in accepted.json()] == ["462000008"]
    assert "/myaccessid/token/introspection" not in asked and "/myaccessid/me" not in asked
    assert Membership.objects.get(user=user).role == Role.MANAGER  # from the token's own claims

    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        "foreign key, same kid": jwt.encode(claims, own_key, algorithm="RS256", headers=header),
        "HS256": jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": header["kid"]}),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "tampered payload": _swap_payload(token, {**claims, "sub": "someone-else"}),
    }
    for name, bearer in forged.items():
        assert call(bearer)().status_code in (401, 429), name
    other = _upstream_token(issuer, "alice", "alice-pass", client_id="other-service", scope="openid api",
                            resource="urn:latchkey:api")  # fmt: skip
    assert jwt.decode(other, options={"verify_signature": False})["client_id"] == "other-service"
    assert call(other)().status_code in (401, 429)  # genuine, but issued to another service


def _swap_payload(token: str, claims: dict[str, Any]) -> str:
    head, _, signature = token.split(".")
    body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{head}.{body}.{signature}"
