"""Prometheus metrics from the real database, Redis and Ceph: keys by status, audited events,
revocation lag, queue depth, and Ceph call latency and errors."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from keys.expiry import key_expire
from lifecycle.keys import key_create
from portal.celery import app as celery_app
from storage import client as storage
from tests.support.metrics import metric_value
from tests.support.workers import start_worker, stop_worker, sweep_until_expired

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


def test_metrics_report_keys_lag_queue_and_ceph_calls(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    calls = 'latchkey_ceph_call_seconds_count{operation="create_key"}'
    before = metric_value(Client().get("/metrics").content.decode(), calls, default=0)
    key_create(membership=membership, hours=1, description="live")
    old = key_create(
        membership=membership, hours=1, description="old", now=timezone.now() - timedelta(hours=1, seconds=30)
    )
    assert key_expire(key_id=old.key.pk)  # 30 s after its expiry
    with pytest.raises(storage.StorageError):
        storage.project_user_suspend(tenant="no_such_tenant_x", suspended=True)  # refused: an error

    response = Client().get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert metric_value(text, 'latchkey_keys{status="active"}') == 1
    assert metric_value(text, 'latchkey_keys{status="expired"}') == 1
    assert metric_value(text, 'latchkey_key_events{action="create"}') == 2
    assert 29 <= metric_value(text, 'latchkey_revocation_lag_seconds{quantile="1.0"}') <= 120
    assert metric_value(text, "latchkey_queue_depth") >= 0
    assert metric_value(text, calls) - before == 2
    assert re.search(r'^latchkey_ceph_call_errors_total\{kind="[^"]+",operation="modify_user"\} [1-9]', text, re.M)


def test_metrics_token_when_configured(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_METRICS_TOKEN = "s3cr3t-scrape"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cr3t-scrape").status_code == 200
    # With the token, Prometheus may scrape from another host.
    remote = Client(REMOTE_ADDR="192.0.2.20")
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cr3t-scrape").status_code == 200


def test_without_a_token_metrics_answer_only_on_this_host(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    for outsider in ("192.0.2.21", "10.0.0.5"):
        assert Client(REMOTE_ADDR=outsider).get("/metrics").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_workers_ceph_calls_reach_the_web_metrics_through_the_shared_folder(  # type: ignore[no-untyped-def]
    project, member_of, tmp_path, monkeypatch
) -> None:
    """As deployed (compose): the Celery worker revokes keys in its own process and the web's
    /metrics, reading the shared PROMETHEUS_MULTIPROC_DIR, reports those calls."""
    membership = member_of(project)
    overdue = key_create(membership=membership, hours=1, description="old", now=timezone.now() - timedelta(hours=2))
    celery_app.control.purge()
    worker = start_worker({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    try:
        sweep_until_expired(worker, overdue.key.pk)
    finally:
        stop_worker(worker)
    # One file set per process, named by host and pid so containers sharing the volume never collide.
    assert {f.name.split("_", 1)[1] for f in tmp_path.glob("*.db")} == {f"{socket.gethostname()}-{worker.pid}.db"}

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = Client().get("/metrics").content.decode()
    assert metric_value(text, 'latchkey_ceph_call_seconds_count{operation="remove_key"}') == 1
    assert metric_value(text, 'latchkey_keys{status="expired"}') == 1  # the database figures are still there
