"""The client's handling of radosgw's concurrent-modification refusal, with a stand-in for the
admin call (the real overlap is tests/ceph/test_storage_concurrency.py): retried with growing
jittered waits, bounded, counted; other refusals and reads are not retried."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from prometheus_client import REGISTRY
from rgwadmin import exceptions as rgw_exc

from storage import client as storage
from storage.locks import one_writer


class Flaky:
    def __init__(self, refusals: list[str]) -> None:
        self.refusals = refusals
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.refusals:
            raise rgw_exc.RGWAdminException(self.refusals.pop(0))
        return "done"


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(storage.time, "sleep", slept.append)
    return slept


def _count(name: str, operation: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", {"operation": operation}) or 0.0


@pytest.mark.parametrize("code", ["UnknownError", "ConcurrentModification"])  # radosgw 16/18, 20
def test_a_conflict_is_retried_until_it_passes(waits: list[float], code: str) -> None:
    call = Flaky([code, code])
    before = _count("latchkey_ceph_conflict_retries", "unit_write")
    assert storage._call("unit_write", call, user_write=True) == "done"
    assert call.calls == 3
    assert _count("latchkey_ceph_conflict_retries", "unit_write") == before + 2
    assert len(waits) == 2 and all(0 <= w <= storage.CONFLICT_BACKOFF_CAP_S for w in waits)


def test_retries_are_bounded_and_the_last_refusal_is_raised(waits: list[float], settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RGW_CONFLICT_ATTEMPTS = 4
    call = Flaky(["UnknownError"] * 10)
    before = _count("latchkey_ceph_conflicts_exhausted", "unit_exhausted")
    with pytest.raises(storage.StorageError) as refused:
        storage._call("unit_exhausted", call, user_write=True)
    assert refused.value.code == "UnknownError"
    assert call.calls == 4 and len(waits) == 3
    assert _count("latchkey_ceph_conflicts_exhausted", "unit_exhausted") == before + 1


def test_the_waits_grow_up_to_the_cap(monkeypatch: pytest.MonkeyPatch, waits: list[float], settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RGW_CONFLICT_ATTEMPTS = 10
    monkeypatch.setattr(storage.random, "uniform", lambda low, high: high)  # the longest wait each time
    with pytest.raises(storage.StorageError):
        storage._call("unit_waits", Flaky(["UnknownError"] * 10), user_write=True)
    assert waits == [0.04, 0.08, 0.16, 0.32, 0.5, 0.5, 0.5, 0.5, 0.5]  # at most 3.1 s in all


def test_other_refusals_and_reads_are_not_retried(waits: list[float]) -> None:
    denied = Flaky(["AccessDenied", "AccessDenied"])
    with pytest.raises(storage.StorageError) as refused:
        storage._call("unit_denied", denied, user_write=True)
    assert refused.value.code == "AccessDenied" and denied.calls == 1
    read = Flaky(["UnknownError"])
    with pytest.raises(storage.StorageError):
        storage._call("unit_read", read)
    assert read.calls == 1 and waits == []


@pytest.mark.django_db(transaction=True)
def test_writes_to_one_project_take_turns_across_connections() -> None:
    """Two connections (as two processes would have): the second waits for the first's turn."""
    order: list[str] = []
    holding = threading.Event()

    def second() -> None:
        holding.wait()
        with one_writer("unit-tenant"):
            order.append("second")
        connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    with one_writer("unit-tenant"):
        holding.set()
        time.sleep(0.3)  # the other connection is now blocked on the lock
        with one_writer("unit-tenant"):  # re-entrant: a write inside a write
            order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]
    with one_writer("another-tenant"):  # other projects never wait on this one
        pass
