"""Overlapping writes to one project's Ceph user, for real: radosgw 16 refuses a write that
overlaps another on the same user record. Latchkey's writes to one user take turns (an advisory
lock in PostgreSQL, storage/locks.py) and a refusal that still happens is retried
(storage/client.py). Here many threads, each with its own database connection as separate
processes would have, release their calls at the same instant."""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from storage import client as storage
from storage import locks
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph, pytest.mark.django_db(transaction=True)]


def _project() -> str:
    tenant = "cc" + secrets.token_hex(5)
    storage.project_user_ensure(tenant=tenant, display_name="concurrency")
    storage.subuser_ensure(tenant=tenant, name="m", access="readwrite")
    return tenant


def _at_once(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run every call in its own thread, released together; their results and failures."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    failures: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        connection.ensure_connection()  # connecting is not part of the race
        barrier.wait()
        try:
            results.append(call())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def _retries() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "latchkey_ceph_conflict_retries"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _ids(n: int) -> list[str]:
    return ["LK" + secrets.token_hex(8).upper() for _ in range(n)]


def test_32_simultaneous_creates_and_removes_on_one_project_all_hold_in_s3() -> None:
    tenant = _project()
    ids = _ids(32)
    secrets_by_id: dict[str, str] = {}

    def create(access_key: str) -> Callable[[], None]:
        return lambda: secrets_by_id.__setitem__(
            access_key, storage.key_create(tenant=tenant, subuser="m", access_key=access_key)
        )

    _, failures = _at_once([create(a) for a in ids])
    assert failures == []
    assert {k.access_key for k in storage.keys_list(tenant=tenant)} == set(ids)
    assert [a for a in ids if s3_error_code(a, secrets_by_id[a]) is not None] == []  # every key works

    _, failures = _at_once([lambda a=a: storage.key_remove(tenant=tenant, access_key=a) for a in ids])
    assert failures == []
    assert storage.keys_list(tenant=tenant) == []
    assert {wait_refused(a, secrets_by_id[a]) for a in ids} == {"InvalidAccessKeyId"}


def test_overlapping_calls_that_bypass_the_turns_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer Latchkey does not coordinate with (a second deployment, radosgw-admin)
    still overlaps; the client retries radosgw's refusals, so every call returns. Without the
    retries a third or more of these calls failed (../shared/design/ceph-rgw.md).

    What the retries cannot give: radosgw 16 itself now and then drops a key it confirmed to one
    of such uncoordinated writers (in 2 of 6 full runs of the suite here; docs/operators.md). That
    is what the turns are for (the test above holds every key with them), and the reconciler
    marks such a key missing. So here a key may be absent, but none is invented, every key
    radosgw holds works, and every removal holds."""
    monkeypatch.setattr(locks, "one_writer", lambda tenant: contextlib.nullcontext())  # no turns
    create, remove = storage.key_create, storage.key_remove
    tenant = _project()
    before = _retries()
    made: dict[str, str] = {}
    for _ in range(3):  # until the calls have really overlapped (almost always the first round)
        ids = _ids(16)
        results, failures = _at_once([lambda a=a: (a, create(tenant=tenant, subuser="m", access_key=a)) for a in ids])
        assert failures == []
        made.update(dict(results))
        if _retries() > before:
            break
    assert _retries() > before, "no call was refused as a concurrent change: nothing was proven"
    held = {k.access_key for k in storage.keys_list(tenant=tenant)}
    assert held <= set(made) and held
    assert [a for a in held if s3_error_code(a, made[a]) is not None] == []

    before = _retries()
    _, failures = _at_once([lambda a=a: remove(tenant=tenant, access_key=a) for a in made])
    assert failures == []
    assert storage.keys_list(tenant=tenant) == []
    # Every key is refused. Most are unknown to S3; one radosgw 16 dropped from the user record
    # while uncoordinated writers overlapped can leave its key index behind, and S3 then answers
    # AccessDenied (seen once in the 16 run of a full suite): refused all the same.
    refusals = {wait_refused(a, secret) for a, secret in made.items()}
    assert None not in refusals and refusals <= {"InvalidAccessKeyId", "AccessDenied"}
    assert "InvalidAccessKeyId" in refusals
