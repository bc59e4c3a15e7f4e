"""Latchkey as a client of the upstream OpenID providers, outside a browser login: discovery,
refreshing a stored grant, userinfo. Every call has a short timeout; nothing here logs or
returns a token, and a provider's error text is never passed on verbatim."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
TIMEOUT = 3  # seconds per provider call: a slow IdP must not hold a worker long
DISCOVERY_SECONDS = 3600


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered something that is not an OAuth answer."""


class GrantRefused(Exception):
    """The provider refused the refresh token: the account is disabled or gone there, or the
    person withdrew Latchkey's access (``invalid_grant``, RFC 6749 §5.2)."""


@dataclass(frozen=True)
class Refreshed:
    access_token: str
    refresh_token: str | None  # a new one when the provider rotates them


def provider_app(provider_id: str) -> dict[str, Any] | None:
    """The allauth ``openid_connect`` entry of ``provider_id``, or None if not configured."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    return next((dict(app) for app in apps if app["provider_id"] == provider_id), None)


def discovery(issuer: str) -> dict[str, Any] | None:
    key = "oidc-discovery:" + hashlib.sha256(issuer.encode()).hexdigest()
    document = cache.get(key)
    if document is None:
        try:
            answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
            answer.raise_for_status()
            document = answer.json()
        except (requests.RequestException, ValueError):
            log.warning("provider %s: no discovery document", issuer)
            return None
        if not isinstance(document, dict):
            return None
        cache.set(key, document, DISCOVERY_SECONDS)
    return dict(document)


def _document(app: dict[str, Any]) -> dict[str, Any]:
    document = discovery(app["settings"]["server_url"])
    if document is None or not isinstance(document.get("token_endpoint"), str):
        raise ProviderUnavailable("no discovery document with a token endpoint")
    return document


def refresh(app: dict[str, Any], refresh_token: str) -> Refreshed:
    """Use a stored refresh token once, with Latchkey's client credentials."""
    document = _document(app)
    try:
        answer = requests.post(
            document["token_endpoint"],
            timeout=TIMEOUT,
            auth=(app["client_id"], app["secret"]),
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        )
        body = answer.json()
    except (requests.RequestException, ValueError):
        raise ProviderUnavailable("the token endpoint did not answer with JSON") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("the token endpoint answered something that is not an object")
    if answer.status_code in (400, 401) and body.get("error") == "invalid_grant":
        raise GrantRefused()
    if answer.status_code != 200 or not isinstance(body.get("access_token"), str):
        # invalid_client and friends are Latchkey's configuration, not the person's standing.
        error = body.get("error")
        raise ProviderUnavailable(f"token endpoint: HTTP {answer.status_code}, error {str(error)[:40]!r}")
    new = body.get("refresh_token")
    return Refreshed(access_token=body["access_token"], refresh_token=new if isinstance(new, str) and new else None)


def userinfo(app: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The claims behind ``access_token``. GrantRefused when the provider says the token is
    no good (401/403), ProviderUnavailable when it cannot say."""
    endpoint = _document(app).get("userinfo_endpoint")
    if not isinstance(endpoint, str):
        raise ProviderUnavailable("no userinfo endpoint")
    try:
        answer = requests.get(endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)
    except requests.RequestException:
        raise ProviderUnavailable("userinfo did not answer") from None
    if answer.status_code in (401, 403):
        raise GrantRefused()
    try:
        claims = answer.json() if answer.status_code == 200 else None
    except ValueError:
        claims = None
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
        raise ProviderUnavailable(f"userinfo: HTTP {answer.status_code} without claims")
    return claims
