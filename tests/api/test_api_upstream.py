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
from django.core.cache import cache
from django.db import connections

from accounts.models import User
from accounts.services import upstream_grant_refused, upstream_login_clears_refusal
from api.authentication import _accepting_providers
from keys.models import AccessKey
from lifecycle.memberships import membership_end, memberships_sync_from_idp
from projects.models import Membership, Project, Role
from tests.support.idp import idp_change, idp_paths_during, idp_reset, issuer, upstream_token

pytestmark = [pytest.mark.browser, pytest.mark.ceph]
ALICE_8 = "urn:geant:myaccessid.org:group:latchkey:project_462000008"


@pytest.mark.django_db(transaction=True)
def test_upstream_access_token_works_only_for_an_account_that_logged_in(live_server) -> None:  # type: ignore[no-untyped-def]
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"up{secrets.token_hex(4)}")
    connections.close_all()
    token = upstream_token(issuer("myaccessid"), "alice", "alice-pass")
    api = f"{live_server.url}/api/v1/projects/"
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}

    before = requests.get(api, headers=headers, timeout=10)
    assert before.status_code == 401 and "in a browser once" in before.json()["detail"]

    # alice logs in to Latchkey once, through the same provider: now her IdP token is enough.
    claims = jwt.decode(token, options={"verify_signature": False})
    user = User.objects.create_user(username="alice-up")
    SocialAccount.objects.create(user=user, provider="myaccessid", uid=claims["sub"])
    connections.close_all()
    after = requests.get(api, headers=headers, timeout=10)
    # The token's own claims (manager of 462000008) create nothing: only a login does that.
    assert after.status_code == 200 and after.json() == []
    assert not Membership.objects.filter(user=user).exists()
    memberships_sync_from_idp(user=user, provider_id="myaccessid", claims=claims)  # what her login does
    connections.close_all()
    listed = requests.get(api, headers=headers, timeout=10)
    assert listed.status_code == 200 and [p["number"] for p in listed.json()] == ["462000008"]
    membership = Membership.objects.get(user=user)
    assert (membership.role, membership.source) == (Role.MANAGER, "idp:myaccessid")
    wrong = requests.get(api, headers={"Authorization": "Bearer " + token[::-1]}, timeout=10)
    assert wrong.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_token_for_another_service_is_refused_even_from_latchkeys_own_client(live_server) -> None:  # type: ignore[no-untyped-def]
    """M1: a genuine JWT, issued to the CLI's own client, but for another resource (audience)."""
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"au{secrets.token_hex(4)}")
    ours = upstream_token(issuer("myaccessid"), "alice", "alice-pass")
    claims = jwt.decode(ours, options={"verify_signature": False})
    user = User.objects.create_user(username="alice-aud")
    SocialAccount.objects.create(user=user, provider="myaccessid", uid=claims["sub"])
    memberships_sync_from_idp(user=user, provider_id="myaccessid", claims=claims)
    connections.close_all()
    theirs = upstream_token(issuer("myaccessid"), "alice", "alice-pass", resource="urn:other:service")
    assert jwt.decode(theirs, options={"verify_signature": False})["aud"] == "urn:other:service"
    keys = f"{live_server.url}/api/v1/projects/462000008/keys/"
    body = {"hours": 1, "description": "from a token"}
    refused = requests.post(keys, json=body, headers={"Authorization": f"Bearer {theirs}"}, timeout=10)
    assert refused.status_code == 401 and "not valid here" in refused.json()["detail"]
    made = requests.post(keys, json=body, headers={"Authorization": f"Bearer {ours}"}, timeout=30)
    assert made.status_code == 201, made.text
    assert AccessKey.objects.filter(owner=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_tokens_claims_lower_memberships_and_never_raise_or_restore_them(live_server) -> None:  # type: ignore[no-untyped-def]
    """H2: an access token's claims are as old as the token. They lower a role or end a
    membership that has not changed since; they never create, raise or bring back one."""
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"st{secrets.token_hex(4)}")
    as_manager = upstream_token(issuer("myaccessid"), "alice", "alice-pass")
    claims = jwt.decode(as_manager, options={"verify_signature": False})
    user = User.objects.create_user(username="alice-stale")
    account = SocialAccount.objects.create(user=user, provider="myaccessid", uid=claims["sub"])
    memberships_sync_from_idp(user=user, provider_id="myaccessid", claims=claims)  # her login
    membership = Membership.objects.get(user=user)
    connections.close_all()
    api = f"{live_server.url}/api/v1/projects/"

    def call(token: str) -> requests.Response:
        cache.clear()  # each call checks its token afresh
        return requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    # The IdP lowers her to member; a token issued after that lowers her here too.
    idp_change("myaccessid", "alice", entitlements=[ALICE_8 + ":role=member#aai.myaccessid.org"])
    try:
        as_member = upstream_token(issuer("myaccessid"), "alice", "alice-pass")
        assert call(as_member).status_code == 200
        assert Membership.objects.get(pk=membership.pk).role == Role.MEMBER
        # The stale manager token raises nothing back.
        assert call(as_manager).status_code == 200
        assert Membership.objects.get(pk=membership.pk).role == Role.MEMBER
        # The re-check (or a removal) ends the membership: no token of hers brings it back.
        membership_end(membership=Membership.objects.get(pk=membership.pk))
        for token in (as_manager, as_member):
            assert call(token).json() == []
        keys = f"{api}462000008/keys/"
        body = {"hours": 168, "description": "stale"}
        stale = requests.post(keys, json=body, headers={"Authorization": f"Bearer {as_manager}"}, timeout=10)
        assert stale.status_code == 404 and not AccessKey.objects.filter(owner=user).exists()
        # A membership made after a token was issued is not that token's to judge.
        memberships_sync_from_idp(user=user, provider_id="myaccessid", claims=claims)  # a later login: manager
        time.sleep(1.1)  # iat has a resolution of one second
        assert call(as_member).status_code == 200
        assert Membership.objects.get(user=user).role == Role.MANAGER
        # A refusal by the provider is recorded: no token of hers counts until she logs in again.
        upstream_grant_refused(account=account, why="test")
        refused = call(as_manager)
        assert refused.status_code == 401 and "refused this account" in refused.json()["detail"]
        upstream_login_clears_refusal(account=account)
        assert call(as_manager).status_code == 200
    finally:
        idp_reset()


@pytest.mark.django_db(transaction=True)
def test_tokens_for_another_service_or_bogus_are_refused_and_reach_no_other_provider(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RATE_LIMITS = {**settings.LATCHKEY_RATE_LIMITS, "bearer_failure": "3/60"}
    at = issuer("myaccessid")
    user = User.objects.create_user(username="alice-other")
    # An opaque token another service's client received (for userinfo): introspection says whose.
    token = upstream_token(
        at,
        "alice",
        "alice-pass",
        client_id="other-service",
        scope="openid profile eduperson_entitlement",
        resource=None,
    )
    sub = requests.get(f"{at}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["sub"]
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
    limited, asked = idp_paths_during(call("also-not-a-token"))
    assert limited.status_code == 429 and "Too many invalid access tokens" in limited.json()["detail"]
    assert asked == []  # L1: past the limit, no provider is asked at all
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
    # L7: with a second provider accepting API tokens, an opaque token (no issuer) goes to none.
    settings.LATCHKEY_PROVIDER_TRUST = {
        **settings.LATCHKEY_PROVIDER_TRUST,
        "haka": replace(settings.LATCHKEY_PROVIDER_TRUST["haka"], api_clients=("cli",), api_audience="urn:x"),
    }
    assert _accepting_providers("opaque-token") == []
    assert [a["provider_id"] for a in _accepting_providers(own)] == ["myaccessid"]
    assert [a["provider_id"] for a in _accepting_providers(forged_for)] == ["haka"]


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
    token = upstream_token(issuer("myaccessid"), "alice", "alice-pass")
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    api = f"{live_server.url}/api/v1/projects/"

    def call(bearer: str):  # type: ignore[no-untyped-def]
        return lambda: requests.get(api, headers={"Authorization": f"Bearer {bearer}"}, timeout=10)

    Membership.objects.create(user=user, project=Project.objects.get(), role=Role.MANAGER, source="idp:myaccessid")
    connections.close_all()
    accepted, asked = idp_paths_during(call(token))
    assert accepted.status_code == 200 and [p["number"] for p in accepted.json()] == ["462000008"]
    assert "/myaccessid/token/introspection" not in asked and "/myaccessid/me" not in asked

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
    other = upstream_token(issuer("myaccessid"), "alice", "alice-pass", client_id="other-service")
    assert jwt.decode(other, options={"verify_signature": False})["client_id"] == "other-service"
    assert call(other)().status_code in (401, 429)  # genuine, but issued to another service


def _swap_payload(token: str, claims: dict[str, Any]) -> str:
    head, _, signature = token.split(".")
    body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{head}.{body}.{signature}"
