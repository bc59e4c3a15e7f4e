"""Redis stopped, for real: pages and key creation keep working (sessions, rate limits and keys
need only PostgreSQL and Ceph), readiness reports Redis down, and when Redis returns a worker
expires the keys that fell due meanwhile."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from keys.expiry import queue_expiry_job
from lifecycle.keys import key_create
from portal.celery import app as celery_app
from projects.models import Membership
from tests.support import ROOT
from tests.support.s3 import s3_error_code, wait_refused
from tests.support.web import client_for
from tests.support.workers import start_worker, stop_worker, sweep_until_expired

pytestmark = [pytest.mark.ceph]


def _redis(action: str) -> None:
    port = str(urlparse(settings.REDIS_URL).port)
    env = {**os.environ, "REDIS_DIR": str(ROOT / ".stack/test/redis"), "REDIS_PORT": port}
    subprocess.run([str(ROOT / "scripts/stack/redis.sh"), action], env=env, check=True, capture_output=True, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_redis_down_then_back(project, member_of, request) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    overdue = key_create(membership=membership, hours=1, description="due", now=timezone.now() - timedelta(hours=2))
    client = client_for(membership.user)
    _redis("stop")
    try:
        assert client.get(reverse("projects:detail", args=[project.number])).status_code == 200
        made = client.post(reverse("keys:create", args=[project.number]), {"hours": "1", "description": "no redis"})
        assert made.status_code == 200, made.content[:300]
        secret, key_id = made.context["secret"], made.context["key"].access_key_id
        assert s3_error_code(key_id, secret) is None
        ready = Client().get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"]["status"] == "down"
        assert s3_error_code(overdue.key.access_key_id, overdue.secret) is None  # nothing can expire it yet
    finally:
        _redis("start")
    worker = request.getfixturevalue("worker")  # a worker, as it would come back with Redis
    sweep_until_expired(worker, overdue.key.pk)  # the sweep runs again now that Redis is back
    assert wait_refused(overdue.key.access_key_id, overdue.secret) == "InvalidAccessKeyId"
    assert s3_error_code(key_id, secret) is None  # the key made while Redis was down still works


@pytest.mark.django_db(transaction=True)
def test_a_worker_holding_exact_time_jobs_outlives_a_redis_restart(project, member_of) -> None:  # type: ignore[no-untyped-def]
    """Every worker holds exact-time expiry jobs (Celery ETAs) unacknowledged. Celery 5.7.0 died
    when Redis went away then (AttributeError in kombu's restore_unacked, from the consumer's
    close): no revocation until someone restarted it. 5.6.3 reconnects; the worker must too."""
    membership = member_of(project)
    celery_app.control.purge()
    worker = start_worker(pool="prefork")  # as deployed
    try:
        _restart_redis_under(worker, membership)
    finally:
        stop_worker(worker)


def _restart_redis_under(worker: subprocess.Popen[str], membership: Membership) -> None:
    later = key_create(membership=membership, hours=1, description="its job is held")
    queue_expiry_job(later.key.pk, later.key.expires_at)  # the worker reserves it until then
    time.sleep(3)
    _redis("stop")
    try:
        time.sleep(5)
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else "the worker stopped"
    finally:
        _redis("start")
    time.sleep(5)
    assert worker.poll() is None, worker.stdout.read() if worker.stdout else "the worker stopped"
    overdue = key_create(membership=membership, hours=1, description="due", now=timezone.now() - timedelta(hours=2))
    sweep_until_expired(worker, overdue.key.pk)  # the same worker, reconnected, still does the work
    assert wait_refused(overdue.key.access_key_id, overdue.secret) == "InvalidAccessKeyId"
