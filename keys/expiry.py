"""Keys end at their time, because Ceph never ends them. Three layers, all funnelling into
``key_expire``:
1. an exact-time Celery job per key, queued by the sweep when the key is within two sweep
   intervals of its expiry (short ETAs survive Redis' visibility timeout; see settings); it
   also ends its project's other keys that are due by then (``keys_expire_due``);
2. the sweep itself (every ``LATCHKEY_SWEEP_SECONDS``), which expires everything overdue,
   so a dead worker or a lost job delays a revocation by one sweep at most;
3. the reconciler, which compares Ceph with the database (keys/reconcile.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import signature
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from keys.models import AccessKey, KeyEvent
from keys.services import KeyActionError, key_ceph_remove, key_end_locked, key_expiry_change, key_locked
from storage import client as storage
from storage.locks import one_writer

log = logging.getLogger(__name__)
PENDING_GRACE = timedelta(minutes=5)
# Sent by name: the task module imports this one.
EXPIRE_TASK = "keys.tasks.key_expire_task"


def queue_expiry_job(key_id: int, at: datetime) -> None:
    """The exact-time job that expires one key at ``at`` (Celery ETA)."""
    signature(EXPIRE_TASK, args=[key_id]).apply_async(eta=at)


def key_set_expiry(
    *, key: AccessKey, expires_at: datetime, actor: User | None = None, now: datetime | None = None
) -> AccessKey:
    """Set a key's end to ``expires_at``, earlier or later than it was: an operator ends a leaked
    key at a chosen time (``manage.py key_set_expiry``). The same rules and record as extending
    (keys.services.key_expiry_change): no later than the project's longest lifetime from now,
    and a later end only while the owner's membership stands as Ceph holds it. An end within
    the sweep's horizon gets its exact-time job now, not at the next sweep."""
    now = now or timezone.now()
    longest = key.project.key_max_hours
    if expires_at <= now:
        raise KeyActionError("The new end must be in the future; to end the key now, revoke it.")
    if expires_at > now + timedelta(hours=longest):
        raise KeyActionError(f"A key of this project may live at most {longest} hours from now.")
    changed = key_expiry_change(key=key, expires_at=expires_at, actor=actor, ip=None, now=now, later_only=False)
    if expires_at <= now + timedelta(seconds=2 * settings.LATCHKEY_SWEEP_SECONDS):
        try:
            queue_expiry_job(key.pk, expires_at)
            AccessKey.objects.filter(pk=key.pk, expires_at=expires_at).update(expiry_job_for=expires_at)
        except Exception:  # the broker is down: the sweep expires the key instead
            log.warning("key %s: expiry job not queued; the sweep ends it", key.access_key_id)
    return changed


def key_expire(*, key_id: int, now: datetime | None = None) -> bool:
    """Expire one key if it is due. Idempotent; a stale job (the key was extended) does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        return _expire_locked(key_locked(key_id), now=now)


def keys_expire_due(*, key_id: int, now: datetime | None = None) -> int:
    """The exact-time job of one key: expire it (as ``key_expire``) and then, in one turn at its
    project's Ceph lock, the project's other keys due by ``now`` (at most ``BATCH``); how many
    ended.

    When a training event's keys all end in the same second, one job per key would queue for the
    project's lock one after another, each paying a task's and a lock's overhead (measured: 100
    keys at worker concurrency 4 took 1.9 s one per job, 19 ms each, against 9 ms for the same
    work in one loop). The jobs of keys ended here find nothing left to do. In the turn, rows
    another process holds (an extension, a deletion, the sweep) are skipped, not waited for: that
    process takes the Ceph lock after its row lock, so waiting here could deadlock; the skipped
    key's own job or the sweep settles it. A Ceph failure stops the turn (the rest wait for their
    own jobs or the sweep)."""
    now = now or timezone.now()
    ended = int(key_expire(key_id=key_id, now=now))
    project = AccessKey.objects.filter(pk=key_id).values_list("project_id", "project__tenant").first()
    if project is None:
        return ended
    project_id, tenant = project
    due = AccessKey.objects.filter(project_id=project_id, status=AccessKey.Status.ACTIVE, expires_at__lte=now)
    with one_writer(tenant):
        for pk in due.order_by("expires_at").values_list("pk", flat=True)[:BATCH]:
            with transaction.atomic():
                row = AccessKey.objects.select_for_update(skip_locked=True, of=("self",)).select_related("project")
                ended += _expire_locked(row.filter(pk=pk).first(), now=now)
    return ended


BATCH = 500  # keys one job may end: bounds how long other writes to the project wait


def _expire_locked(key: AccessKey | None, *, now: datetime) -> bool:
    if key is None or key.status != AccessKey.Status.ACTIVE or key.expires_at > now:
        return False
    key_end_locked(
        key,
        status=AccessKey.Status.EXPIRED,
        action=KeyEvent.Action.EXPIRE,
        reason="expired",
        now=now,
        actor=None,
        ip=None,
    )
    return True


def keys_sweep(*, now: datetime | None = None, horizon: timedelta | None = None) -> dict[str, int]:
    """The safety net, run by beat: expire every overdue key, clean abandoned PENDING keys,
    and queue exact-time jobs for keys expiring within ``horizon``. Idempotent; a failure on
    one key is logged and retried on the next run."""
    now = now or timezone.now()
    horizon = horizon or timedelta(seconds=2 * settings.LATCHKEY_SWEEP_SECONDS)
    expired = cleaned = scheduled = failed = 0
    overdue = AccessKey.objects.filter(status=AccessKey.Status.ACTIVE, expires_at__lte=now).values_list("pk", flat=True)
    for key_id in list(overdue):
        try:
            expired += key_expire(key_id=key_id, now=now)
        except storage.StorageError:
            failed += 1
        except Exception:  # one key's surprise must not leave every other overdue key alive
            log.exception("sweep: expiring key %s failed unexpectedly", key_id)
            failed += 1
    abandoned = AccessKey.objects.select_related("project").filter(
        status=AccessKey.Status.PENDING, created_at__lte=now - PENDING_GRACE
    )
    for key in abandoned:
        try:
            key_ceph_remove(key)
            key.delete()
            cleaned += 1
        except storage.StorageError:
            failed += 1
        except Exception:
            log.exception("sweep: cleaning abandoned key %s failed unexpectedly", key.pk)
            failed += 1
    due_soon = AccessKey.objects.filter(
        status=AccessKey.Status.ACTIVE, expires_at__gt=now, expires_at__lte=now + horizon
    ).values_list("pk", "expires_at", "expiry_job_for")
    for key_id, expires_at, job_for in list(due_soon):
        if job_for == expires_at:
            continue
        try:
            queue_expiry_job(key_id, expires_at)
        except Exception:  # the broker is down: the next sweep expires the key instead
            log.warning("sweep: could not queue the expiry job of key %s", key_id)
            failed += 1
            continue
        AccessKey.objects.filter(pk=key_id, expires_at=expires_at).update(expiry_job_for=expires_at)
        scheduled += 1
    if expired or cleaned or failed:
        log.info("sweep: %d expired, %d abandoned cleaned, %d queued, %d failed", expired, cleaned, scheduled, failed)
    return {"expired": expired, "cleaned": cleaned, "scheduled": scheduled, "failed": failed}
