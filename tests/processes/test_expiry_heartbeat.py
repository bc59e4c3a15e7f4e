"""The expiry sweep's heartbeat: beat records that it sent a sweep, a worker that it completed
one, and the web tells from them whether expiry is enforced right now (readiness, metrics, the
pages of those who rely on it). The clock is controlled; the worker is real."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from heartbeats.models import Heartbeat
from heartbeats.services import heartbeat_completed, heartbeat_queued
from keys.selectors import SWEEP, expiry_enforcement
from keys.tasks import keys_sweep_task
from lifecycle.keys import key_create
from projects.models import Membership, Role
from tests.support.metrics import metric_value
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def interval(settings) -> int:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_SWEEP_SECONDS = 60
    return 60


def test_enforced_until_three_intervals_pass_without_a_sweep(interval: int) -> None:
    heartbeat_completed(name=SWEEP, summary={"expired": 2}, now=T0)
    assert expiry_enforcement(now=T0 + timedelta(seconds=3 * interval)).enforced
    late = expiry_enforcement(now=T0 + timedelta(seconds=3 * interval + 1))
    assert not late.enforced and late.age_seconds == 3 * interval + 1 and late.completed_at == T0
    assert late.reason == "Celery beat has not sent an expiry sweep: beat is down"


def test_reasons_tell_a_dead_worker_from_a_dead_beat_and_from_never(interval: int) -> None:
    never = expiry_enforcement(now=T0)
    assert not never.enforced and never.age_seconds is None and "no expiry sweep has completed yet" in never.reason
    heartbeat_completed(name=SWEEP, summary={}, now=T0)
    heartbeat_queued(name=SWEEP, now=T0 + timedelta(seconds=4 * interval))  # sent, never completed
    stuck = expiry_enforcement(now=T0 + timedelta(seconds=5 * interval))
    assert not stuck.enforced and "worker is down or stuck" in stuck.reason
    assert Heartbeat.objects.count() == 1  # one row per job, updated in place


def test_readiness_names_the_sweep_when_it_is_late(interval: int) -> None:
    heartbeat_completed(name=SWEEP, summary={}, now=T0)
    with time_machine.travel(T0 + timedelta(seconds=interval), tick=False):
        ok = Client().get("/health/ready")
    assert ok.status_code == 200 and ok.json()["checks"]["sweep"]["status"] == "ok", ok.json()
    with time_machine.travel(T0 + timedelta(seconds=3 * interval + 5), tick=False):
        late = Client().get("/health/ready")
    assert late.status_code == 503
    checks = late.json()["checks"]
    assert [name for name, c in checks.items() if c["status"] == "down"] == ["sweep"]
    assert "beat is down" in checks["sweep"]["error"] and "185 s ago" in checks["sweep"]["error"]


def test_readiness_fails_closed_before_any_sweep() -> None:
    response = Client().get("/health/ready")
    assert response.status_code == 503
    assert "no expiry sweep has completed yet" in response.json()["checks"]["sweep"]["error"]


def test_metrics_export_the_age_of_the_last_sweep(interval: int) -> None:
    assert metric_value(Client().get("/metrics").content.decode(), "latchkey_sweep_age_seconds") == float("inf")
    heartbeat_completed(name=SWEEP, summary={}, now=T0)
    with time_machine.travel(T0 + timedelta(seconds=42), tick=False):
        text = Client().get("/metrics").content.decode()
    assert metric_value(text, "latchkey_sweep_age_seconds") == 42.0


@pytest.mark.ceph
def test_managers_and_key_owners_are_told_while_expiry_is_not_enforced(project, cast, interval: int) -> None:  # type: ignore[no-untyped-def]
    owner = Membership.objects.get(project=project, role=Role.MEMBER)
    issued = key_create(membership=owner, hours=1, description="relied on")  # real Ceph: real clock
    project_page = reverse("projects:detail", args=[project.number])
    key_page = reverse("keys:detail", args=[project.number, issued.key.access_key_id])

    def shown(who: str, url: str) -> bool:
        response = client_for(cast[who]).get(url)
        assert response.status_code == 200
        return b'id="expiry-not-enforced"' in response.content

    heartbeat_completed(name=SWEEP, summary={}, now=timezone.now() - timedelta(seconds=10 * interval))
    assert shown("manager", project_page) and shown("deputy", project_page)
    assert not shown("member", project_page) and not shown("read-only", project_page)
    assert shown("member", key_page)  # the key's owner
    page = client_for(cast["manager"]).get(project_page).content.decode()
    assert "Key expiry is not being enforced right now" in page and "beat is down" in page

    heartbeat_completed(name=SWEEP, summary={}, now=timezone.now() - timedelta(seconds=interval))
    assert not shown("manager", project_page) and not shown("member", key_page)


@pytest.mark.ceph
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_records_the_sweep_it_completes(worker) -> None:  # type: ignore[no-untyped-def]
    sent = time.time()
    keys_sweep_task.delay()
    queued = Heartbeat.objects.get(name=SWEEP).queued_at  # recorded by the sender, at once
    assert queued is not None and queued.timestamp() >= sent - 1
    deadline = time.monotonic() + 60
    while not expiry_enforcement().enforced:
        assert worker.poll() is None, worker.stdout.read()
        assert time.monotonic() < deadline, "the worker did not record the sweep"
        time.sleep(0.2)
    beat = Heartbeat.objects.get(name=SWEEP)
    assert beat.completed_at is not None and beat.completed_at >= queued
    assert set(beat.summary) == {"expired", "cleaned", "scheduled", "failed"}
