"""Revocation benchmarks against the bench stack's real Ceph, Redis, PostgreSQL and Celery.

revocation_lag_p99_s: 500 keys whose expiries fall within the same minute; a real worker and
beat run as in production. Lag = when S3 refuses a request signed with the key at every
configured endpoint (both gateways of the bench stack) minus its expires_at. Every other key is
a read-only scoped key (its own RGW user): scoped_revocation_lag_p99_s is theirs, in the same run.

revocation_after_worker_restart_s: keys due shortly; the worker is killed (SIGKILL) after the
sweep queued their exact-time jobs and restarted after they are overdue; time from the restart
until S3 refuses all of them at every endpoint (goal: within one sweep).

Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import statistics
import time
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from harness import ROOT, celery, err, stop  # noqa: E402
from refusal import Watched, endpoints, p99, refused, watch_until_refused  # noqa: E402

from accounts.models import User  # noqa: E402
from keys.models import AccessKey  # noqa: E402
from keys.scopes import KeyScope  # noqa: E402
from lifecycle.keys import key_create  # noqa: E402
from portal.celery import app as celery_app  # noqa: E402
from projects.models import Membership, Project  # noqa: E402

SWEEP_SECONDS = 10  # the bench runs the sweep more often than production so it finishes sooner
CELERY_ENV = {"LATCHKEY_SWEEP_SECONDS": str(SWEEP_SECONDS)}


def _keys_due(count: int, first_in: float, spread: float, label: str, scoped: set[str] | None = None) -> list[Watched]:
    """``count`` real keys in a fresh project, expiring between first_in and first_in + spread
    seconds after the last one is made. Creating 500 keys takes longer than a minute's lead, so
    the keys are made first and their expiries then set, as if they had been made earlier."""
    tenant = f"bench{label}{secrets.token_hex(4)}"
    project = Project.objects.create(number=str(900000000000 + secrets.randbelow(10**11)), title=label, tenant=tenant)
    user = User.objects.create(username=f"bench-{tenant}")
    membership = Membership.objects.create(user=user, project=project)
    read_only = KeyScope(kind=AccessKey.Scope.READ_ONLY)
    issued = [
        key_create(
            membership=membership,
            hours=1,
            description=f"bench {i}",
            scope=read_only if scoped is not None and i % 2 else KeyScope(),
        )
        for i in range(count)
    ]
    if scoped is not None:
        scoped.update(made.key.access_key_id for made in issued if made.key.rgw_user)
    base = timezone.now() + timedelta(seconds=first_in)
    watched = []
    for i, made in enumerate(issued):
        expires_at = base + timedelta(seconds=spread * i / max(count - 1, 1))
        AccessKey.objects.filter(pk=made.key.pk).update(expires_at=expires_at, expiry_job_for=None)
        watched.append(Watched(made.key.access_key_id, made.secret, expires_at.timestamp()))
    return watched


def revocation_lag(log_dir: Path, count: int) -> tuple[float, float]:
    # The expiries start after the first sweep has had time to queue their exact-time jobs.
    scoped: set[str] = set()
    keys = _keys_due(count, first_in=3 * SWEEP_SECONDS + 5, spread=60, label="lag", scoped=scoped)
    err(f"revocation_lag: {count} keys created; waiting for their expiry")
    worker = celery("worker", log_dir / "worker.log", CELERY_ENV)
    beat = celery("beat", log_dir / "beat.log", CELERY_ENV)
    try:
        refused_at = watch_until_refused(keys, timeout=3 * SWEEP_SECONDS + 5 + 60 + 4 * SWEEP_SECONDS)
    finally:
        stop(beat)
        stop(worker)
    lags = sorted(max(0.0, refused_at[k.access_key] - k.due) for k in keys)
    err(f"revocation_lag: median {statistics.median(lags):.3f} s, max {lags[-1]:.3f} s at {len(endpoints())} endpoints")
    scoped_lags = sorted(max(0.0, refused_at[k.access_key] - k.due) for k in keys if k.access_key in scoped)
    return p99(lags), p99(scoped_lags)


def revocation_after_restart(log_dir: Path, count: int) -> float:
    keys = _keys_due(count, first_in=2 * SWEEP_SECONDS + 5, spread=5, label="restart")
    worker = celery("worker", log_dir / "worker.log", CELERY_ENV)
    beat = celery("beat", log_dir / "beat.log", CELERY_ENV)
    try:
        # Let the sweep queue the exact-time jobs, then kill the worker holding them.
        deadline = time.time() + 3 * SWEEP_SECONDS
        ids = [k.access_key for k in keys]
        while AccessKey.objects.filter(access_key_id__in=ids, expiry_job_for__isnull=True).exists():
            if time.time() > deadline:
                raise SystemExit("the sweep did not queue the expiry jobs")
            time.sleep(0.2)
        stop(worker, signal.SIGKILL)
        err("revocation_after_worker_restart: worker killed with the jobs queued")
        last_expiry = max(k.due for k in keys)
        time.sleep(max(0.0, last_expiry - time.time()) + 2)
        still = sum(not all(refused(k.access_key, k.secret, url) for url in endpoints()) for k in keys)
        err(f"revocation_after_worker_restart: S3 still accepts {still} overdue keys; restarting the worker")
        restarted = time.time()
        worker = celery("worker", log_dir / "worker.log", CELERY_ENV)
        refused_at = watch_until_refused(keys, timeout=4 * SWEEP_SECONDS + 30)
    finally:
        stop(beat)
        stop(worker)
    return max(refused_at.values()) - restarted


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    log_dir = ROOT / ".stack" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    settings.LATCHKEY_KEY_MAX_ACTIVE = 100_000  # one member holds all the bench keys
    celery_app.control.purge()
    count = int(os.environ.get("BENCH_REVOCATION_KEYS", "500"))
    lag, scoped_lag = revocation_lag(log_dir, count)
    print(f"revocation_lag_p99_s={lag:.3f}")
    print(f"revocation_lag_keys={count}")
    print(f"scoped_revocation_lag_p99_s={scoped_lag:.3f}")
    after = revocation_after_restart(log_dir, max(20, count // 5))
    print(f"revocation_after_worker_restart_s={after:.3f}")
    print(f"revocation_sweep_interval_s={SWEEP_SECONDS}")


if __name__ == "__main__":
    main()
