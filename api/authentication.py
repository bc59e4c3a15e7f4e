"""Who is calling the API. Three ways in, tried in this order:

1. An access token from Latchkey's own OpenID provider (``allauth.idp.oidc``), which the CLI
   gets through the device authorization grant (``latchkey login``).
2. An access token from an upstream identity provider (for example from oidc-agent), but only
   from a provider configured with ``api_clients`` and ``api_audience``, only if it was issued
   to one of those clients, and only if its audience is Latchkey's API: a token another service
   received, or one meant for another service, is refused (RFC 9068 §4). The token is checked by
   token introspection (RFC 7662) at that provider, with Latchkey's own client credentials, or,
   for a JWT access token where the provider offers no introspection (or ``api_jwt_local``), here
   against the provider's JWKS (api/token_checks.py). A JWT goes to the provider its ``iss``
   names and no other; an opaque token only to the providers that accept API tokens. The
   ``sub`` must belong to an account that has logged in through that provider once and that the
   provider has not refused since (lifecycle/recheck.py), and the token's own claims may only
   lower that provider's memberships (``_sync``). Answers are cached by a hash of the token
   (never the token): a minute when good, half a minute when not; failed tokens are limited per
   client address, before any provider is asked; each provider call has a short timeout.
3. The browser session (with CSRF protection), so the web pages can use the API too.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import jwt
from allauth.idp.oidc.contrib.rest_framework.authentication import TokenAuthentication
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from accounts import upstream
from accounts.models import User
from accounts.services import upstream_refused
from api import token_checks
from lifecycle.memberships import memberships_sync_from_idp
from portal import ratelimit
from portal.http import client_ip

log = logging.getLogger(__name__)
CACHE_SECONDS = 60
NEGATIVE_CACHE_SECONDS = 30


class LatchkeyTokenAuthentication(TokenAuthentication):
    """Latchkey's own access tokens; None (try the next way) for anything else."""

    def authenticate(self, request: Request) -> Any:
        # allauth reads request.POST for a token in a form body; on DRF's request that parses
        # the JSON body, so a malformed body answered 400 before the view could answer an
        # outsider 404. Django's own request leaves a JSON body alone.
        return super().authenticate(request._request)

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


def _jwt_issuer(token: str) -> str | None:
    """The ``iss`` a JWT claims, unverified: it only chooses where to ask. None if not a JWT."""
    if token.count(".") != 2:
        return None
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) else ""


def _accepting_providers(token: str) -> list[dict[str, Any]]:
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    trust = settings.LATCHKEY_PROVIDER_TRUST
    accepting = [app for app in apps if trust.get(app["provider_id"]) and trust[app["provider_id"]].api_clients]
    issuer = _jwt_issuer(token)
    if issuer is not None:  # a JWT: its own issuer only, never the others
        return [app for app in accepting if app["settings"]["server_url"] == issuer.rstrip("/")]
    # An opaque token names no issuer. Sent to every provider, it would reach providers it was
    # never meant for (each could then replay it): it goes to the one provider that accepts API
    # tokens, and where several do, only JWTs are accepted.
    return accepting if len(accepting) == 1 else []


def _issued_to(answer: dict[str, Any]) -> set[str]:
    """The client the token was issued to (RFC 9068 ``client_id``; OIDC's ``azp``)."""
    return {n for n in (answer.get("client_id"), answer.get("azp")) if isinstance(n, str)}


def _audiences(answer: dict[str, Any]) -> set[str]:
    audience = answer.get("aud")
    names = audience if isinstance(audience, list) else [audience]
    return {n for n in names if isinstance(n, str) and n}


class UpstreamTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, None] | None:
        token = _bearer(request)
        if token is None:
            return None
        key = "upstream-token:" + hashlib.sha256(token.encode()).hexdigest()
        user_id = cache.get(key)
        if user_id is None:
            # An address already over its limit of refused tokens gets no provider call at all:
            # a flood of bogus tokens must not cost an introspection each.
            self._limit(request, peek=True)
            user_id = self._verify(token) or 0
            cache.set(key, user_id, CACHE_SECONDS if user_id else NEGATIVE_CACHE_SECONDS)
        if not user_id:
            self._limit(request, peek=False)
            raise AuthenticationFailed("The access token is not valid here: log in again (latchkey login).")
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise AuthenticationFailed("This account is not active.")
        return user, None

    @staticmethod
    def _limit(request: Request, *, peek: bool) -> None:
        try:
            (ratelimit.peek if peek else ratelimit.check)("bearer_failure", client_ip(request) or "unknown")
        except ratelimit.RateLimited as exc:
            detail = "Too many invalid access tokens from this address."
            raise Throttled(wait=exc.retry_after, detail=detail) from None

    def _verify(self, token: str) -> int | None:
        for app in _accepting_providers(token):
            user_id = self._at_provider(app, token)
            if user_id is not None:
                return user_id
        return None

    def _at_provider(self, app: dict[str, Any], token: str) -> int | None:
        provider_id, issuer = app["provider_id"], app["settings"]["server_url"]
        document = upstream.discovery(issuer) or {}
        trust = settings.LATCHKEY_PROVIDER_TRUST[provider_id]
        is_jwt, jwks_uri = _jwt_issuer(token) is not None, document.get("jwks_uri")
        introspection = document.get("introspection_endpoint")
        if is_jwt and isinstance(jwks_uri, str) and (trust.api_jwt_local or not introspection):
            answer = token_checks.verify_jwt(app, jwks_uri, token, audience=trust.api_audience)
        elif isinstance(introspection, str):
            answer = token_checks.introspect(app, introspection, token)
        else:
            log.warning(
                "provider %s: no introspection endpoint and not a JWT; its API tokens cannot be checked", provider_id
            )
            return None
        if answer is None:
            return None
        # RFC 9068 §4: a token whose audience is not Latchkey's API was meant for another service.
        if trust.api_audience not in _audiences(answer):
            log.warning("provider %s: a token for another audience was refused", provider_id)
            return None
        clients = set(trust.api_clients)
        if not _issued_to(answer) & clients:
            log.warning(
                "provider %s: token issued to %s, not to a client Latchkey accepts",
                provider_id,
                sorted(_issued_to(answer))[:3],
            )
            return None
        if answer.get("iss") not in (None, issuer, issuer + "/") or not isinstance(answer.get("sub"), str):
            return None
        account = SocialAccount.objects.filter(provider=provider_id, uid=answer["sub"]).first()
        if account is None:
            raise AuthenticationFailed("Log in to Latchkey in a browser once before using its API.")
        if upstream_refused(account):
            raise AuthenticationFailed(
                "Your identity provider has refused this account since your last login: log in to Latchkey in a "
                "browser again."
            )
        self._sync(app, answer, account)
        return int(account.user_id)

    def _sync(self, app: dict[str, Any], claims: dict[str, Any], account: SocialAccount) -> None:
        """A token's claims are as old as the token: they may end a membership or lower a role
        that has not changed since the token was issued, never create or raise one (that takes a
        login or the re-check, which ask the provider now). A stale token of someone the re-check
        or a logout has since cut back therefore brings nothing back."""
        if settings.LATCHKEY_ENTITLEMENT_CLAIM not in claims:
            # A token granted without the entitlement scope says nothing about memberships; reading
            # its silence as "none" would end every membership the provider gave.
            return
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or isinstance(issued, bool):
            return  # no issue time: nothing shows which memberships it could speak for
        as_of = datetime.fromtimestamp(issued, tz=UTC)
        memberships_sync_from_idp(
            user=account.user, provider_id=app["provider_id"], claims=claims, lower_only=True, as_of=as_of
        )

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="latchkey"'
