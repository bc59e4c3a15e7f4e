"""The shared cache (portal/cache.py) on the test stack's real Redis: rate limits count across
processes, a Redis outage falls back to process memory, and clearing spares Celery's keys."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from portal import cache as shared_cache
from portal.ratelimit import RateLimited, check
from tests.support import ROOT

CLOSED = "redis://127.0.0.1:9/0"  # the discard port: nothing listens on loopback


def _another_process_checks(scope: str, who: str) -> str:
    code = textwrap.dedent(f"""
        import django
        django.setup()
        from portal.ratelimit import RateLimited, check
        try:
            check({scope!r}, {who!r})
        except RateLimited:
            print("limited")
        else:
            print("allowed")
    """)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "LATCHKEY_RATE_KEY_CREATE": "2/600"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_a_limit_counts_the_uses_of_every_process(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RATE_LIMITS = {**settings.LATCHKEY_RATE_LIMITS, "key_create": "2/600"}
    check("key_create", "user-41")
    check("key_create", "user-41")
    # A second gunicorn worker, in effect: it sees the two uses made here.
    assert _another_process_checks("key_create", "user-41") == "limited"
    assert _another_process_checks("key_create", "user-42") == "allowed"
    check("key_create", "user-42")  # the second use of two
    with pytest.raises(RateLimited):
        check("key_create", "user-42")  # ...so this process counted the other's use too


def test_clear_removes_only_latchkeys_keys() -> None:
    raw = redis.Redis.from_url(settings.REDIS_URL)
    raw.set("celery-like-key", "queued task")
    cache.set("ours", 1, 60)
    assert raw.keys("latchkey:*")
    cache.clear()
    assert raw.get("celery-like-key") == b"queued task"
    assert not raw.keys("latchkey:*")
    raw.delete("celery-like-key")


@override_settings(CACHES={"default": {"BACKEND": "portal.cache.SharedCache", "LOCATION": CLOSED}})
def test_with_redis_unreachable_limits_still_hold_in_this_process(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RATE_LIMITS = {**settings.LATCHKEY_RATE_LIMITS, "reveal": "2/600"}
    check("reveal", "user-7")
    check("reveal", "user-7")
    with pytest.raises(RateLimited):
        check("reveal", "user-7")
    cache.set("k", "v", 60)
    assert cache.get("k") == "v" and cache.get_or_set("other", 3) == 3


def test_after_a_failure_redis_is_left_alone_then_tried_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    raw = redis.Redis.from_url(settings.REDIS_URL)
    clock = [1000.0]
    monkeypatch.setattr(shared_cache.time, "monotonic", lambda: clock[0])
    instance = shared_cache.SharedCache(settings.REDIS_URL, {"KEY_PREFIX": "latchkey"})
    instance._down_until = clock[0] + shared_cache.RETRY_SECONDS  # as after a failed call
    instance.set("breaker", "local", 60)
    assert instance.get("breaker") == "local" and not raw.exists("latchkey:1:breaker")  # memory only
    clock[0] += shared_cache.RETRY_SECONDS + 0.1
    instance.set("breaker", "shared", 60)
    assert raw.exists("latchkey:1:breaker") and instance.get("breaker") == "shared"
    instance.delete("breaker")
