"""Turns the operator's list of upstream OpenID providers into django-allauth settings, and into
what each provider is trusted to assert (its entitlement namespaces and projects)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from portal.env import EnvError

_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# offline_access: a refresh token, with which Latchkey re-checks the account in the background
# (lifecycle/recheck.py). OpenID Connect honours it only with prompt=consent, so that is sent
# with it; a provider that gives no refresh token all the same is reported to operators.
DEFAULT_SCOPES = ["openid", "profile", "email", "eduperson_entitlement", "offline_access"]
_PROJECT_RANGE = re.compile(r"^([0-9]{1,20})(?:-([0-9]{1,20}))?$")


@dataclass(frozen=True)
class ProviderTrust:
    """What one provider may assert. No prefixes: it asserts no membership at all (fail closed).
    No project ranges: any project, within its namespaces."""

    entitlement_prefixes: tuple[str, ...] = ()
    project_ranges: tuple[tuple[int, int], ...] = ()
    # Client ids at this provider whose access tokens the API accepts (e.g. oidc-agent's); none:
    # the API accepts no token of this provider, and never sends it one.
    api_clients: tuple[str, ...] = ()
    # A JWT access token is verified here (JWKS signature, iss, exp) even where the provider
    # offers introspection: fewer calls to it, but a token it revoked works until it expires.
    # Without introspection, JWTs are always verified here.
    api_jwt_local: bool = False
    # The audience (``aud``) Latchkey's API is, at this provider (RFC 8707 resource, RFC 9068):
    # an access token whose aud does not name it was meant for another service and is refused
    # (the JWT's own aud, or the introspection answer's). Required where api_clients is set.
    api_audience: str = ""

    def admits_project(self, number: str) -> bool:
        if not self.project_ranges:
            return True
        value = int(number)
        return any(low <= value <= high for low, high in self.project_ranges)


def _prefixes(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("entitlement_prefixes", [])
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise EnvError(f"{where}.entitlement_prefixes: expected a list of strings")
    for prefix in value:
        # A whole-segment URN prefix: "…:latchkey:" cannot be stretched to "…:latchkey-evil:".
        if not prefix.startswith("urn:") or not prefix.endswith(":") or len(prefix) > 200 or not prefix.isascii():
            raise EnvError(f"{where}.entitlement_prefixes: {prefix!r} must be an ASCII URN prefix ending with ':'")
    return tuple(value)


def _ranges(entry: dict[str, Any], where: str) -> tuple[tuple[int, int], ...]:
    value = entry.get("projects", [])
    if not isinstance(value, list):
        raise EnvError(f'{where}.projects: expected a list of project numbers or ranges like "462000000-462999999"')
    ranges = []
    for item in value:
        match = _PROJECT_RANGE.match(item) if isinstance(item, str) else None
        if match is None:
            raise EnvError(f"{where}.projects: {item!r} is not a project number or a range N-M")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise EnvError(f"{where}.projects: {item!r} ends before it starts")
        ranges.append((low, high))
    return tuple(ranges)


def _api_clients(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("api_clients", [])
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise EnvError(f"{where}.api_clients: expected a list of client ids")
    return tuple(c.strip() for c in value)


def _api_jwt_local(entry: dict[str, Any], where: str) -> bool:
    value = entry.get("api_jwt_local", False)
    if not isinstance(value, bool):
        raise EnvError(f"{where}.api_jwt_local: expected true or false")
    return value


def _api_audience(entry: dict[str, Any], where: str, clients: tuple[str, ...]) -> str:
    value = entry.get("api_audience", "")
    if not isinstance(value, str) or len(value) > 200 or (value and not value.strip()):
        raise EnvError(f"{where}.api_audience: expected the audience (aud) of Latchkey's API, e.g. urn:latchkey:api")
    if clients and not value:
        raise EnvError(
            f"{where}.api_audience: required where api_clients is set: the audience (aud) this provider puts in "
            "access tokens meant for Latchkey's API (e.g. urn:latchkey:api); tokens for other services are refused"
        )
    return value.strip()


def parse_provider_trust(data: Any, *, source: str = "LATCHKEY_OIDC_PROVIDERS") -> dict[str, ProviderTrust]:
    """provider id → what it may assert, from the same list parse_oidc_providers reads (which
    checks the rest of each entry)."""
    parse_oidc_providers(data, source=source)
    return {
        entry["id"]: ProviderTrust(
            _prefixes(entry, f"{source}[{i}]"),
            _ranges(entry, f"{source}[{i}]"),
            _api_clients(entry, f"{source}[{i}]"),
            _api_jwt_local(entry, f"{source}[{i}]"),
            _api_audience(entry, f"{source}[{i}]", _api_clients(entry, f"{source}[{i}]")),
        )
        for i, entry in enumerate(data)
    }


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
        app_settings: dict[str, Any] = {
            "server_url": entry["issuer"].rstrip("/"),
            "token_auth_method": "client_secret_basic",
            "scope": scopes,
            "oauth_pkce_enabled": True,
        }
        if "offline_access" in scopes:
            # A login that asks for prompt=login (the re-login before a reveal) overrides this;
            # it gets no new refresh token and the stored one stays.
            app_settings["auth_params"] = {"prompt": "consent"}
        apps.append(
            {
                "provider_id": provider_id,
                "name": entry["name"],
                "client_id": entry["client_id"],
                "secret": entry["client_secret"],
                "settings": app_settings,
            }
        )
    return apps
