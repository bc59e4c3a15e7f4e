"""Fixed-window rate limits for the actions worth abusing: key creation and secret reveals per
user, and login callbacks per client address.

Counters live in Django's cache: on Redis, so every gunicorn worker counts against one limit;
while Redis is unreachable, in each process's memory (portal/cache.py), so key creation keeps
working and the limit still holds per process. Limits are "count/seconds", e.g.
LATCHKEY_RATE_KEY_CREATE=20/600.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.http import client_ip


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; try again in {retry_after} seconds.")
        self.retry_after = retry_after


def parse_rate(text: str) -> tuple[int, int]:
    count, _, seconds = text.partition("/")
    return int(count), int(seconds)


def _window(scope: str, who: object) -> tuple[int, int, int, str]:
    limit, window = parse_rate(settings.LATCHKEY_RATE_LIMITS[scope])
    now = int(time.time())
    start = now - now % window
    return limit, window, start + window - now, f"rl:{scope}:{who}:{start}"


def peek(scope: str, who: object) -> None:
    """Raise RateLimited if ``who`` is already past the limit of ``scope``; count nothing."""
    limit, _, retry_after, key = _window(scope, who)
    if (cache.get(key) or 0) >= limit:
        raise RateLimited(retry_after=retry_after)


def check(scope: str, who: object) -> None:
    """Count one use of ``scope`` by ``who``; raise RateLimited past the limit."""
    limit, window, retry_after, key = _window(scope, who)
    cache.add(key, 0, timeout=window + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        used = 1
    if used > limit:
        raise RateLimited(retry_after=retry_after)


def too_many(request: HttpRequest, exc: RateLimited, *, what: str) -> HttpResponse:
    response = render(request, "rate_limited.html", {"what": what, "retry_after": exc.retry_after}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


CALLBACK = re.compile(r"^/accounts/oidc/[^/]+/login/callback/$")
ADMIN_LOGIN = "/admin/login/"


class LoginCallbackLimitMiddleware:
    """Login callbacks from one address: each costs a token request to the IdP. Password tries
    at the Django admin's login form from one address: guessing (``admin_login``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = None
        if CALLBACK.match(request.path):
            scope = "login_callback"
        elif request.path == ADMIN_LOGIN and request.method == "POST":
            scope = "admin_login"
        if scope is not None:
            try:
                check(scope, client_ip(request) or "unknown")
            except RateLimited as exc:
                return too_many(request, exc, what="login attempts")
        return self.get_response(request)
