"""The two ways an upstream access token is checked: asking its provider (RFC 7662
introspection) or, for a JWT access token (RFC 9068), verifying it here against the provider's
published keys. Each returns the token's claims when it is live and genuine, else None; the
caller decides whether those claims name a client Latchkey accepts."""

from __future__ import annotations

import logging
import threading
from typing import Any

import jwt
import requests

from accounts import upstream

log = logging.getLogger(__name__)
# Asymmetric only: an HS256 token "signed" with a public key, or alg none, is never believed.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY = 30  # seconds of clock difference allowed on exp / nbf / iat
ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
_clients: dict[str, jwt.PyJWKClient] = {}
_lock = threading.Lock()


def introspect(app: dict[str, Any], endpoint: str, token: str) -> dict[str, Any] | None:
    try:
        answer = requests.post(
            endpoint, data={"token": token}, timeout=upstream.TIMEOUT, auth=(app["client_id"], app["secret"])
        ).json()
    except (requests.RequestException, ValueError):
        log.warning("provider %s: introspection failed", app["provider_id"])
        return None
    if not isinstance(answer, dict) or answer.get("active") is not True:
        return None
    return answer


def _keys(jwks_uri: str) -> jwt.PyJWKClient:
    # One client per provider and process: it caches the key set (5 min) and fetches it again
    # for an unknown key id, at most once per cooldown, so a provider's key rotation just works.
    with _lock:
        if jwks_uri not in _clients:
            _clients[jwks_uri] = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=300, timeout=upstream.TIMEOUT)
        return _clients[jwks_uri]


def verify_jwt(app: dict[str, Any], jwks_uri: str, token: str, *, audience: str) -> dict[str, Any] | None:
    """Signature from the provider's JWKS, ``iss`` exactly the provider, ``exp`` present and not
    past, ``sub`` present, ``aud`` naming ``audience``; an ID token (or anything not typed as an
    access token and carrying a nonce) is not an access token."""
    provider_id, issuer = app["provider_id"], app["settings"]["server_url"]
    try:
        header = jwt.get_unverified_header(token)
        key = _keys(jwks_uri).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            issuer=[issuer, issuer + "/"],
            audience=audience,
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "sub", "aud"]},
        )
    except (jwt.PyJWKClientConnectionError, ValueError, TypeError, KeyError):
        # Unreachable, or a key set that is not JSON / not a key set (PyJWT lets json errors out).
        log.warning("provider %s: its signing keys could not be fetched", provider_id)
        return None
    except jwt.PyJWTError as exc:
        log.info("provider %s: JWT refused: %s", provider_id, type(exc).__name__)
        return None
    typ = header.get("typ")
    typed_access = isinstance(typ, str) and typ.lower() in ACCESS_TOKEN_TYPES
    # Untyped: an ID token has a nonce, and Keycloak-style tokens say what they are in "typ".
    if not typed_access and ("nonce" in claims or claims.get("typ") in ("ID", "Refresh")):
        log.info("provider %s: a JWT that is not an access token was refused", provider_id)
        return None
    return dict(claims)
