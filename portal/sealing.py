"""Encryption at rest for the few secrets Latchkey must keep (upstream refresh tokens).

``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp) under a MultiFernet:
the first key of ``LATCHKEY_TOKEN_KEYS`` seals, every key listed opens, so an operator rotates
by putting a new key first, running ``manage.py reseal_tokens`` and then dropping the old one.
Without the setting one key is derived from ``SECRET_KEY`` (HKDF, its own label), so a new
deployment works from its embedded defaults; changing ``SECRET_KEY`` then makes sealed tokens
unreadable, which Latchkey treats as "no token" (the person's next login stores a new one).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class Unreadable(Exception):
    """Sealed with a key that is no longer configured, or not sealed by Latchkey at all."""


def derived_key(secret: str) -> str:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"latchkey token sealing").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(material).decode()


def check_keys(keys: Sequence[str]) -> list[str]:
    """The keys, each a valid Fernet key (ValueError naming the position otherwise)."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(
                f"key {position} is not a Fernet key (make one with: "
                'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
            ) from None
    return list(keys)


@cache
def _sealer(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _sealer(tuple(settings.LATCHKEY_TOKEN_KEYS))


def seal(text: str) -> str:
    return _current().encrypt(text.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    try:
        return _current().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise Unreadable() from exc


def reseal(sealed: str) -> str:
    """The same secret sealed with the first key (after a rotation)."""
    try:
        return _current().rotate(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise Unreadable() from exc
