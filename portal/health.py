"""Health endpoints for load balancers and orchestrators. No login, nothing secret in the answer.

/health/live: the process answers (no dependency checked: restarting it would not fix one).
/health/ready: the database, Redis and Ceph each answer within a short timeout, and the expiry
sweep has completed within three sweep intervals; 503 names the ones that do not, so traffic is
held back (and an operator alerted) while a dependency is down or keys are not being expired.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from keys.selectors import expiry_enforcement
from storage import client as storage

log = logging.getLogger(__name__)
TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT).ping()


class NotReady(Exception):
    """A check that answered, with a reason worth showing (not a secret)."""


def _sweep() -> None:
    # Ceph never expires a key by itself: a portal whose sweep stopped keeps every key alive.
    status = expiry_enforcement()
    if not status.enforced:
        age = "never" if status.age_seconds is None else f"{status.age_seconds:.0f} s ago"
        raise NotReady(f"{status.reason} (last completed: {age}; limit {status.limit_seconds:.0f} s)")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "redis": _redis,
    "ceph": lambda: storage.ping(timeout=TIMEOUT),
    "sweep": _sweep,
}


@require_GET
@never_cache
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def checks_run() -> dict[str, dict[str, object]]:
    """Each check by name: {"status": "ok" | "down", "ms": …, "error": … when down}. Read by
    /health/ready and the operators' overview."""
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except NotReady as exc:
            log.warning("readiness: %s: %s", name, exc)
            results[name] = {"status": "down", "error": str(exc)}
        except Exception as exc:  # any failure of a dependency means "not ready"
            log.warning("readiness: %s failed (%s)", name, type(exc).__name__)
            results[name] = {"status": "down", "error": type(exc).__name__}
        else:
            results[name] = {"status": "ok"}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return results


@require_GET
@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    results = checks_run()
    healthy = all(r["status"] == "ok" for r in results.values())
    return JsonResponse({"status": "ok" if healthy else "down", "checks": results}, status=200 if healthy else 503)
