"""When S3 itself refuses a key: a request signed with it, at every configured S3 endpoint
(each gateway), until each answers an error. A key counts as revoked then, not when the admin
listing drops it. Needs Django set up (the storage client reads the settings)."""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from django.conf import settings

from keys.models import AccessKey
from storage import client as storage


@dataclass(frozen=True)
class Watched:
    access_key: str
    secret: str
    due: float  # epoch seconds from which the key may be refused (its expiry, or its removal)


def endpoints() -> list[str]:
    return [url for _, url in settings.LATCHKEY_S3_ENDPOINTS]


def refused(access_key: str, secret: str, endpoint: str) -> bool:
    """S3 at ``endpoint`` refuses a ListBuckets request signed with the key (SigV4 in the query
    string: RGW checks the key exactly as for a header-signed request). A 5xx decides nothing and
    counts as not refused, so a busy gateway never makes a key look revoked. A fresh connection
    each time, as storage/client.py does: on a reused one radosgw's answers wait ~40 ms for
    delayed ACKs (measured here: 43 ms per probe reused, 2 ms fresh)."""
    url = _signed_url(access_key, secret, endpoint)
    status = requests.get(url, headers={"Connection": "close"}, timeout=10).status_code
    return 400 <= status < 500


@functools.cache
def _signed_url(access_key: str, secret: str, endpoint: str) -> str:
    """Signed once per key and endpoint: boto3's client and signer cost far more CPU than the
    request itself, and the probes share two cores with the gateways and the worker they watch."""
    client = storage.s3_client(access_key=access_key, secret_key=secret, endpoint=endpoint)
    return str(client.generate_presigned_url("list_buckets", ExpiresIn=3600))


def watch_until_refused(keys: list[Watched], timeout: float) -> dict[str, float]:
    """For each key, the first time (epoch s) at which every endpoint had refused it; only keys
    already due are probed. SystemExit if some key is still accepted somewhere at the timeout."""
    refused_at = refusals_at_each(keys, timeout)
    return {k.access_key: max(refused_at[(k.access_key, url)] for url in endpoints()) for k in keys}


def refusals_at_each(
    keys: list[Watched], timeout: float, threads: int = 8, *, closely: bool = False
) -> dict[tuple[str, str], float]:
    """For each key and endpoint, the time (epoch s) that endpoint's first refusal of the key
    was answered (each probe stamped when its own answer came).

    Probing every due key without pause would take a core from the worker and the gateways being
    measured (two cores in all), so a due key is asked once a second until Latchkey's database
    says it ended, and then as often as the probes go round. The database only says when to look
    closely; the time recorded is S3's refusal, at worst a little after it really happened.
    ``closely``: every due key as often as the probes go round (nothing of Latchkey ends them)."""
    pending = {(k.access_key, url): k for k in keys for url in endpoints()}
    for (_, url), key in pending.items():
        _signed_url(key.access_key, key.secret, url)  # signed now, not in the seconds that are measured
    refused_at: dict[tuple[str, str], float] = {}
    asked: dict[tuple[str, str], float] = {}

    def probe(item: tuple[tuple[str, str], Watched]) -> float | None:
        (_, url), key = item
        return time.time() if refused(key.access_key, key.secret, url) else None

    deadline = time.time() + timeout
    with ThreadPoolExecutor(threads) as pool:
        while pending and time.time() < deadline:
            now = time.time()
            ended = {access_key for access_key, _ in pending} if closely else _ended({a for a, _ in pending})
            due = [
                (pair, key)
                for pair, key in pending.items()
                if key.due <= now and (pair[0] in ended or now - asked.get(pair, 0.0) >= IDLE_PROBE_S)
            ]
            if not due:
                time.sleep(0.01)
                continue
            asked.update((pair, now) for pair, _ in due)
            for (pair, _), answered in zip(due, pool.map(probe, due), strict=True):
                if answered is not None:
                    refused_at[pair] = answered
                    del pending[pair]
    if pending:
        where = sorted({url for _, url in pending})
        raise SystemExit(f"{len({a for a, _ in pending})} keys still accepted by S3 at {where} after {timeout:.0f} s")
    return refused_at


IDLE_PROBE_S = 1.0


def _ended(access_keys: set[str]) -> set[str]:
    ids = AccessKey.objects.filter(access_key_id__in=access_keys).exclude(status=AccessKey.Status.ACTIVE)
    return set(ids.values_list("access_key_id", flat=True))


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
