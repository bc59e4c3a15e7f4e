"""Django's cache on Redis, shared by every process, falling back to process memory while Redis
is unreachable.

What lives in the cache: the rate-limit counters (ours and allauth's) and short-lived checks of
upstream tokens. Shared counters make a limit mean the same with one gunicorn worker or ten; the
fallback keeps key creation and logins working when Redis is down (the limits then count per
process, a weaker but still real bound). After a failure Redis is left alone for RETRY_SECONDS,
so an outage costs one connection attempt per process per interval, not one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_SECONDS = 5.0


class SharedCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        # One retry on a fresh connection: after Redis restarts, each pooled connection fails once.
        options = {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
            "retry_on_error": [redis.ConnectionError],
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self._local = LocMemCache("latchkey-fallback", params)  # one store per process, all threads
        self._down_until = 0.0

    def _either(self, shared: Callable[[], T], local: Callable[[], T]) -> T:
        if time.monotonic() < self._down_until:
            return local()
        try:
            return shared()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning(
                "cache: Redis unreachable (%s); counting in this process for %.0f s", type(exc).__name__, RETRY_SECONDS
            )
            self._down_until = time.monotonic() + RETRY_SECONDS
            return local()

    def clear(self) -> None:
        """Only Latchkey's own keys: the same Redis may hold Celery's queue (RedisCache.clear
        would FLUSHDB it)."""
        self._local.clear()

        def shared() -> None:
            client = self._cache.get_client(write=True)  # type: ignore[attr-defined]  # not in django-stubs
            keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=500))
            if keys:
                client.delete(*keys)  # one round trip, not one per key

        self._either(shared, lambda: None)


def _shared_or_local(name: str) -> Callable[..., Any]:
    """The Redis method, or the same call on the process-local cache while Redis is unreachable.
    Arguments pass through untouched, so each backend applies its own defaults (DEFAULT_TIMEOUT)."""

    def method(self: SharedCache, *args: Any, **kwargs: Any) -> Any:
        return self._either(
            lambda: getattr(RedisCache, name)(self, *args, **kwargs),
            lambda: getattr(self._local, name)(*args, **kwargs),
        )

    method.__name__ = name
    return method


# Every operation RedisCache implements itself; the rest of BaseCache (get_or_set, decr, ...) is
# built on these.
for _name in ("add", "get", "set", "touch", "delete", "has_key", "incr", "get_many", "set_many", "delete_many"):
    setattr(SharedCache, _name, _shared_or_local(_name))
