"""Real Celery worker processes for tests: started on the test stack's Redis and the test's own
database (pytest-django's test_<name>), sent the sweep, stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from django.conf import settings

from keys.models import AccessKey
from keys.tasks import keys_sweep_task
from tests.support import ROOT


def subprocess_database_url() -> str:
    """This test's database (pytest-django's test_<name>, not the real one), for other processes."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(extra_env: dict[str, str] | None = None, pool: str = "solo") -> subprocess.Popen[str]:
    """A real Celery worker process on the test stack's Redis and this test's database; ``pool``
    "prefork" runs it as deployed (two pool processes), "solo" starts faster."""
    env = {**os.environ, "LATCHKEY_DATABASE_URL": subprocess_database_url(), **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", pool, "--concurrency", "2",
         "--without-mingle", "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def sweep_until_expired(worker: subprocess.Popen[str], key_pk: int, timeout: float = 60) -> None:
    """Send the expiry sweep (what beat sends every minute) and wait until ``worker`` has
    expired the key: in the database, and so already removed from Ceph."""
    keys_sweep_task.delay()
    deadline = time.monotonic() + timeout
    while AccessKey.objects.get(pk=key_pk).status != AccessKey.Status.EXPIRED:
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else "the worker stopped"
        assert time.monotonic() < deadline, "the worker did not run the sweep"
        time.sleep(0.2)


def stop_worker(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
