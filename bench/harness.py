"""What the benchmarks share: progress on stderr, a free port, gunicorn and Celery started as
deployed, waiting for a server, timing a call. Plain Python (no Django), imported by the
bench/*.py scripts that bench/run.sh runs with the bench stack's environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_LOG = ROOT / ".stack" / "bench" / "gunicorn.log"


def err(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn(port: int, log: Path = GUNICORN_LOG, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LATCHKEY_ALLOWED_HOSTS": "127.0.0.1",
        # One member creates every bench key; the default limit is 10 live keys.
        "LATCHKEY_KEY_MAX_ACTIVE": "1000000",
        "LATCHKEY_RATE_KEY_CREATE": "1000000/60",  # and the per-user creation rate limit
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_up(http: requests.Session, url: str, server: subprocess.Popen[bytes]) -> requests.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return http.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):  # a worker still importing on a busy machine
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {GUNICORN_LOG}") from None
            time.sleep(0.2)


def timed(call: Callable[[], object]) -> float:
    """Milliseconds ``call`` took."""
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def celery(kind: str, log: Path, env: dict[str, str] | None = None, concurrency: int = 2) -> subprocess.Popen[bytes]:
    """A Celery worker (``kind`` "worker") or beat, logging to ``log``."""
    args = ["worker", "--concurrency", str(concurrency), "--without-mingle", "--without-gossip"]
    if kind != "worker":
        args = ["beat", "-s", str(log.with_suffix(".schedule"))]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", *args, "-l", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "LATCHKEY_LOG_LEVEL": "WARNING", **(env or {})},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
