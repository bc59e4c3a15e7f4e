"""The worker killed (SIGKILL) while it holds a key's exact-time expiry job, and started again
after the key is overdue: the next sweep removes the key from Ceph. Nothing is lost with it."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from keys.expiry import keys_sweep
from lifecycle.keys import key_create
from portal.celery import app as celery_app
from tests.support.s3 import s3_error_code, wait_refused
from tests.support.workers import start_worker, stop_worker, sweep_until_expired

pytestmark = [pytest.mark.ceph]


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_no_revocation(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    due = key_create(
        membership=membership,
        hours=1,
        description="due soon",
        now=timezone.now() - timedelta(hours=1) + timedelta(seconds=4),
    )
    celery_app.control.purge()
    first = start_worker()
    try:
        assert keys_sweep()["scheduled"] == 1  # its exact-time job goes to the worker
        time.sleep(2)  # the worker takes the job and holds it until its ETA
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=15)
    finally:
        if first.poll() is None:
            first.kill()
    time.sleep(max(0.0, (due.key.expires_at - timezone.now()).total_seconds()) + 1)
    assert s3_error_code(due.key.access_key_id, due.secret) is None  # overdue, and nothing removed it
    second = start_worker()
    try:
        sweep_until_expired(second, due.key.pk)
        assert wait_refused(due.key.access_key_id, due.secret) == "InvalidAccessKeyId"
    finally:
        stop_worker(second)
