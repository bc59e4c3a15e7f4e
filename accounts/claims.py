"""Reading an identity provider's claims, whatever shape its answer has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def claim_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def merged_claims(extra_data: Mapping[str, Any]) -> dict[str, Any]:
    """allauth keeps ``{"userinfo": ..., "id_token": ...}``; userinfo is the fresher source."""
    merged: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        if isinstance(extra_data.get(part), Mapping):
            merged.update(extra_data[part])
    return merged or dict(extra_data)
