"""verify_jwt's own rules, with a key pair made here standing in for the provider's JWKS (the
real IdP's tokens are checked in tests/api/test_api_upstream.py)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api import token_checks

ISSUER = "https://idp.example/realm"
APP = {"provider_id": "p", "settings": {"server_url": ISSUER}}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AUD = "urn:latchkey:api"


class _Keys:
    def get_signing_key_from_jwt(self, token: str) -> Any:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        return jwt.PyJWK.from_dict({**public, "alg": "RS256"})


@pytest.fixture(autouse=True)
def _provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_checks, "_keys", lambda uri: _Keys())


def _token(header_typ: str | None = "at+jwt", **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "s", "exp": now + 300, "iat": now, "client_id": "cli", "aud": AUD, **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"typ": header_typ} if header_typ else {})


def test_a_live_access_token_from_the_provider_is_believed() -> None:
    assert token_checks.verify_jwt(APP, "u", audience=AUD, token=_token())["sub"] == "s"
    assert (
        token_checks.verify_jwt(APP, "u", audience=AUD, token=_token(iss=ISSUER + "/")) is not None
    )  # the same issuer
    assert (
        token_checks.verify_jwt(APP, "u", audience=AUD, token=_token(header_typ=None)) is not None
    )  # untyped, no nonce
    assert token_checks.verify_jwt(APP, "u", audience=AUD, token=_token(aud=["other", AUD])) is not None


@pytest.mark.parametrize(
    "token",
    [
        _token(exp=int(time.time()) - 120),  # expired beyond the leeway
        _token(exp=None),  # no expiry at all
        _token(sub=None),
        _token(iss="https://idp.example/other-realm"),
        _token(iss="https://evil.example/realm"),
        _token(header_typ="JWT", nonce="n", aud="cli"),  # an ID token
        _token(header_typ="JWT", typ="ID"),  # Keycloak says what it is in a claim
        _token(nbf=int(time.time()) + 600),  # not valid yet
        _token(aud="urn:other:service"),  # meant for another service (RFC 9068 §4)
        _token(aud=None),  # meant for nobody in particular
        "not.a.jwt",
        "",
    ],
    ids=[
        "expired",
        "no-exp",
        "no-sub",
        "other-realm",
        "other-issuer",
        "id-token",
        "keycloak-id",
        "nbf",
        "other-audience",
        "no-audience",
        "junk",
        "empty",
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    assert token_checks.verify_jwt(APP, "u", audience=AUD, token=token) is None


def test_a_symmetric_signature_is_refused_even_with_the_public_key_as_secret() -> None:
    claims = jwt.decode(_token(), options={"verify_signature": False})
    assert (
        token_checks.verify_jwt(APP, "u", audience=AUD, token=jwt.encode(claims, "k" * 32, algorithm="HS256")) is None
    )
