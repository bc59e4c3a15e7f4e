"""When S3 itself refuses a key: a request signed with it, at every configured S3 endpoint
(each gateway), until each answers an error. A key counts as revoked then, not when the admin
listing drops it. Needs Django set up (the storage client reads the settings)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings

from storage import client as storage


@dataclass(frozen=True)
class Watched:
    access_key: str
    secret: str
    due: float  # epoch seconds from which the key may be refused (its expiry, or its removal)


def endpoints() -> list[str]:
    return [url for _, url in settings.LATCHKEY_S3_ENDPOINTS]


def refused(access_key: str, secret: str, endpoint: str) -> bool:
    try:
        storage.s3_client(access_key=access_key, secret_key=secret, endpoint=endpoint).list_buckets()
    except ClientError:
        return True
    return False


def watch_until_refused(keys: list[Watched], timeout: float, threads: int = 16) -> dict[str, float]:
    """For each key, the first time (epoch s) at which every endpoint had refused it; only keys
    already due are probed. SystemExit if some key is still accepted somewhere at the timeout."""
    pending = {(k.access_key, url): k for k in keys for url in endpoints()}
    refused_at: dict[tuple[str, str], float] = {}
    deadline = time.time() + timeout
    with ThreadPoolExecutor(threads) as pool:
        while pending and time.time() < deadline:
            now = time.time()
            due = [(pair, key) for pair, key in pending.items() if key.due <= now]
            if not due:
                time.sleep(0.02)
                continue
            answers = pool.map(lambda item: refused(item[1].access_key, item[1].secret, item[0][1]), due)
            seen = time.time()
            for (pair, _), answer in zip(due, answers, strict=True):
                if answer:
                    refused_at[pair] = seen
                    del pending[pair]
    if pending:
        where = sorted({url for _, url in pending})
        raise SystemExit(f"{len({a for a, _ in pending})} keys still accepted by S3 at {where} after {timeout:.0f} s")
    return {k.access_key: max(refused_at[(k.access_key, url)] for url in endpoints()) for k in keys}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
