"""One writer at a time per Ceph user, across every Latchkey process.

radosgw 16 refuses an admin write that overlaps another write to the same user record, and
under heavy overlap (100 calls at once) some refusals are not clean: measured on the test stack,
a retried removal left the key in the user's listing (S3 already refused it), and a create that
radosgw confirmed left only the access-key index entry, so S3 answered AccessDenied to the key
it had just returned. Retrying (storage/client.py) is therefore the second line; the first is not
to overlap at all. Every process shares PostgreSQL, so a session-level advisory lock keyed by
the tenant serialises Latchkey's own writes to one project's user (a handful of milliseconds
each) while writes to different projects still run in parallel. The lock is re-entrant per
connection (PostgreSQL counts it), so a write that makes another write holds it once more.

On SQLite (the developer stack's default database) there is no advisory lock; the retries alone
remain, which is enough for one web process and one worker.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection

NAMESPACE = 0x4C4B  # "LK": the first half of the lock's key, so other users of advisory locks never clash

F = TypeVar("F", bound=Callable[..., Any])


def _key(tenant: str) -> int:
    return zlib.crc32(tenant.encode()) - 2**31  # PostgreSQL's int4 is signed


@contextmanager
def one_writer(tenant: str) -> Iterator[None]:
    """Hold the tenant's user-record lock for the block (blocks while another process holds it)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [NAMESPACE, _key(tenant)])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACE, _key(tenant)])


def writes_user(func: F) -> F:
    """Run ``func(*, tenant=..., ...)`` holding ``one_writer(tenant)``."""

    @functools.wraps(func)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with one_writer(kwargs["tenant"]):
            return func(*args, **kwargs)

    return locked  # type: ignore[return-value]
