"""Real Celery worker processes for tests: started on the test stack's Redis and the test's own
database (pytest-django's test_<name>), sent the sweep, stopped. And the web as deployed (gunicorn)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
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
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            "2",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


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


@contextmanager
def gunicorn(bin_dir: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """gunicorn from ``bin_dir`` (one worker, the deployed settings) with ``env``, once it
    answers; its URL. Stopped after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "-c",
            "python:portal.gunicorn_conf",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                requests.get(url + "/health/live", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"gunicorn from {bin_dir} did not serve"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
