"""Who is calling the API. Three ways in, tried in this order:

1. An access token from Latchkey's own OpenID provider (``allauth.idp.oidc``), which the CLI
   gets through the device authorization grant (``latchkey login``).
2. An access token from one of the upstream identity providers users log in with (for example
   from oidc-agent), checked at that provider's userinfo endpoint. The answer's ``sub`` must
   belong to an account that has logged in to Latchkey once, through that provider; a token is
   never used to create an account. We ask the provider rather than validating a JWT locally
   because upstream access tokens may be opaque (oidc-provider's are), and a provider's userinfo
   answer also proves the token was not revoked. The result is cached for a minute, keyed by a
   hash of the token (never the token itself).
3. The browser session (with CSRF protection), so the web pages can use the API too.

(mozilla-django-oidc offers the same userinfo check, but would add a second OIDC client stack next
to allauth's for these few lines.)
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import requests
from allauth.idp.oidc.contrib.rest_framework.authentication import TokenAuthentication
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.models import User

log = logging.getLogger(__name__)
CACHE_SECONDS = 60


class LatchkeyTokenAuthentication(TokenAuthentication):
    """Latchkey's own access tokens; None (try the next way) for anything else."""

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="latchkey"'


def _bearer(request: Request) -> str | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != b"bearer":
        return None
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return None


def _userinfo_url(issuer: str) -> str | None:
    key = "oidc-userinfo:" + hashlib.sha256(issuer.encode()).hexdigest()
    url = cache.get(key)
    if url is None:
        try:
            answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
            answer.raise_for_status()
            url = str(answer.json()["userinfo_endpoint"])
        except (requests.RequestException, ValueError, KeyError):
            log.warning("provider %s: no userinfo endpoint in its discovery document", issuer)
            return None
        cache.set(key, url, 3600)
    return str(url)


def _providers() -> list[dict[str, Any]]:
    return list(settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", []))


class UpstreamTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, None] | None:
        token = _bearer(request)
        if token is None:
            return None
        key = "upstream-token:" + hashlib.sha256(token.encode()).hexdigest()
        user_id = cache.get(key)
        if user_id is None:
            user_id = self._ask_providers(token)
            if user_id is None:
                raise AuthenticationFailed("The access token is not valid here: log in again (latchkey login).")
            cache.set(key, user_id, CACHE_SECONDS)
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise AuthenticationFailed("This account is not active.")
        return user, None

    def _ask_providers(self, token: str) -> int | None:
        for provider in _providers():
            url = _userinfo_url(provider["settings"]["server_url"])
            if url is None:
                continue
            try:
                answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
            except requests.RequestException:
                continue
            if answer.status_code != 200:
                continue
            try:
                sub = str(answer.json()["sub"])
            except (ValueError, KeyError):
                continue
            account = SocialAccount.objects.filter(provider=provider["provider_id"], uid=sub).first()
            if account is None:
                raise AuthenticationFailed("Log in to Latchkey in a browser once before using its API.")
            return int(account.user_id)
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="latchkey"'
