"""Turns the operator's list of upstream OpenID providers into django-allauth settings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from portal.env import EnvError

_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_SCOPES = ["openid", "profile", "email", "eduperson_entitlement"]


def parse_oidc_providers(data: Any, *, source: str = "LATCHKEY_OIDC_PROVIDERS") -> list[dict[str, Any]]:
    """Validate ``[{"id", "name", "issuer", "client_id", "client_secret", "scopes"?}, ...]``
    and return allauth ``openid_connect`` APPS entries, in the order given (the login page
    lists providers in that order)."""
    if not isinstance(data, list):
        raise EnvError(f"{source}: expected a JSON list of providers")
    apps: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        where = f"{source}[{index}]"
        if not isinstance(entry, dict):
            raise EnvError(f"{where}: expected an object")
        for field in ("id", "name", "issuer", "client_id", "client_secret"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise EnvError(f"{where}.{field}: required, a non-empty string")
        provider_id = entry["id"]
        if not _PROVIDER_ID.match(provider_id):
            raise EnvError(f"{where}.id: use lowercase letters, digits, '-' or '_' (got {provider_id!r})")
        if provider_id in seen:
            raise EnvError(f"{where}.id: {provider_id!r} is listed twice")
        seen.add(provider_id)
        issuer = urlparse(entry["issuer"])
        if issuer.scheme not in ("http", "https") or not issuer.netloc:
            raise EnvError(f"{where}.issuer: expected an http(s) URL (got {entry['issuer']!r})")
        scopes = entry.get("scopes", DEFAULT_SCOPES)
        if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
            raise EnvError(f"{where}.scopes: expected a list of strings")
        if "openid" not in scopes:
            raise EnvError(f"{where}.scopes: must include 'openid'")
        apps.append(
            {
                "provider_id": provider_id,
                "name": entry["name"],
                "client_id": entry["client_id"],
                "secret": entry["client_secret"],
                "settings": {
                    "server_url": entry["issuer"].rstrip("/"),
                    "token_auth_method": "client_secret_basic",
                    "scope": scopes,
                    "oauth_pkce_enabled": True,
                },
            }
        )
    return apps
