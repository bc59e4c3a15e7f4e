"""The test IdP (idp/server.js) as the tests drive it: issuers, its request log, and its
loopback-only run-time controls for removing someone while everything runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from django.conf import settings

from tests.support import ROOT

IDP_LOG = ROOT / ".stack/test/idp/idp.log"
T = TypeVar("T")


def issuer(provider: str) -> str:
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    return str(next(a["settings"]["server_url"] for a in apps if a["provider_id"] == provider))


def _origin() -> str:
    return issuer("myaccessid").rsplit("/", 1)[0]


def idp_change(provider: str, username: str, **changes: Any) -> dict[str, Any]:
    """``entitlements=[...]`` and/or ``disabled=True`` for one account, at once."""
    answer = requests.post(f"{_origin()}/_admin/{provider}/accounts/{username}", json=changes, timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


def idp_reset() -> None:
    requests.post(f"{_origin()}/_admin/reset", json={}, timeout=10).raise_for_status()


def idp_paths_during(call: Callable[[], T]) -> tuple[T, list[str]]:
    """What ``call`` returned and the paths the test IdP served meanwhile, from its own log."""
    start = IDP_LOG.stat().st_size
    result = call()
    time.sleep(0.2)
    with IDP_LOG.open() as log:
        log.seek(start)
        lines = [line.split() for line in log]
    return result, [w[2] for w in lines if len(w) > 3 and w[1] in ("GET", "POST")]
