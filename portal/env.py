"""Typed readers for the environment. Only settings.py calls these.

Each helper fails loudly on a malformed value instead of silently falling back, and every
secret can come from a file named by ``<NAME>_FILE`` (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit


class EnvError(ValueError):
    """A variable is set but its value cannot be used."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise EnvError(f"{name}: expected a boolean (true/false), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}: must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise EnvError(f"{name}: must be at most {maximum}, got {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise EnvError(f"{name}: expected a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from ``NAME`` or from the file that ``NAME_FILE`` points to (not both)."""
    value = _raw(name)
    file_name = _raw(f"{name}_FILE")
    if value is not None and file_name is not None:
        raise EnvError(f"{name} and {name}_FILE are both set; set one")
    if file_name is not None:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise EnvError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from None
    return default if value is None else value


def env_json(name: str, default: Any) -> Any:
    """JSON from ``NAME`` or from the file ``NAME_FILE`` (it may hold client secrets)."""
    text = env_secret(name)
    if text is None:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnvError(f"{name}: invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def env_endpoints(name: str, default_url: str) -> list[tuple[str, str]]:
    """S3 endpoints offered to users, as ``name=url`` pairs separated by commas (e.g.
    ``internal=http://10.1.0.5:8080,external=https://s3.example.org``); the first is the default."""
    items = env_list(name, [f"default={default_url}"])
    result: list[tuple[str, str]] = []
    for item in items:
        label, sep, url = item.partition("=")
        label, url = label.strip(), url.strip()
        if not sep or not label or not url.startswith(("http://", "https://")):
            raise EnvError(f"{name}: expected name=http(s)://host[:port] entries, got {item!r}")
        if any(label == known for known, _ in result):
            raise EnvError(f"{name}: the name {label!r} appears twice")
        result.append((label, url.rstrip("/")))
    if not result:
        raise EnvError(f"{name}: at least one endpoint is needed")
    return result


def url_with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put in its user-info part (Redis takes it no other way); the
    password itself comes from a ``*_FILE`` secret, so it never sits in the environment or a file
    of settings beside the URL."""
    if not password:
        return url
    parts = urlsplit(url)
    if parts.password:
        raise EnvError("the URL already carries a password; give it in one place")
    host = parts.hostname or ""
    netloc = f"{quote(parts.username or '', safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or CIDR ranges, e.g. ``10.0.0.5,192.168.10.0/24``."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise EnvError(f"{name}: {item!r} is not an IP address or CIDR range") from None
    return networks


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int | None:
    """``90m``, ``1h``, ``30d`` as seconds; None when it is not such a figure."""
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not (number.isascii() and number.isdigit()) or int(number) == 0:
        return None
    return int(number) * _UNITS[unit]


def env_retention(name: str, default: str) -> list[tuple[int, int]]:
    """How long points are kept and how close together, youngest first, as ``age:step`` pairs,
    e.g. ``2d:all,30d:1h,730d:1d``: every point for 2 days, one an hour up to 30 days, one a day
    up to 730 days, none older. Returns (age seconds, step seconds; 0 for all)."""
    text = _raw(name) or default
    tiers: list[tuple[int, int]] = []
    for item in (part.strip() for part in text.split(",")):
        age_text, sep, step_text = item.partition(":")
        age = _seconds(age_text.strip())
        step = 0 if step_text.strip() == "all" else _seconds(step_text.strip())
        if not sep or age is None or step is None:
            raise EnvError(
                f"{name}: expected age:step entries such as 30d:1h (units m, h, d; step 'all'), got {item!r}"
            )
        if tiers and (age <= tiers[-1][0] or step < tiers[-1][1]):
            raise EnvError(f"{name}: each entry must keep points longer, and no closer together, than the one before")
        if step >= age:
            raise EnvError(f"{name}: the step of {item!r} is not shorter than its age")
        if age > 36500 * 86400:
            raise EnvError(f"{name}: {item!r} keeps points for more than 100 years")
        tiers.append((age, step))
    return tiers
