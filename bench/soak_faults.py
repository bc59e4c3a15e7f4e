"""The soak's fault injector and the processes it supervises.

Faults are real: radosgw (gateway A, gateway B, or both) stopped with SIGTERM and started
again by scripts/stack/ceph.sh, Redis and PostgreSQL stopped and started by their stack scripts,
and the Celery worker killed with SIGKILL and restarted after a few seconds, as systemd or a
container runtime would. Every fault is recorded as a ``Window``, from just before the service
goes down until it answers again (for the worker: until the new worker logs that it is ready).

One fault at a time: overlapping faults would make it impossible to say which one explains a
late revocation or a 5xx. Kinds are drawn from a shuffled deck, so a short soak still sees each
kind once before any repeats.

The stack scripts are driven with the environment scripts/stack.sh gives them (ports from the
profile's base), so only this profile's processes, found through its pid files, are touched.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import ROOT, err

BASES = {"test": 27000, "soak": 22000, "bench": 12000}
# What each fault takes away. Revocation needs gateway A (Latchkey's admin and S3 endpoint),
# Redis (beat reaches the worker through it), PostgreSQL and the worker; gateway B alone down
# blocks nothing (the key is removed through A, and B cannot accept anything while down).
KINDS = ("rgw-a", "rgw-b", "rgw-both", "redis", "postgres", "worker")
BLOCKS_REVOCATION = {"rgw-a", "rgw-both", "redis", "postgres", "worker"}


@dataclass
class Window:
    kind: str
    start: float  # epoch seconds, just before the service was stopped
    end: float | None = None  # epoch seconds, once it answered again

    def overlaps(self, start: float, end: float, grace: float = 0.0) -> bool:
        stop = self.end if self.end is not None else float("inf")
        return self.start <= end and start <= stop + grace


@dataclass
class Stack:
    """The stack scripts of one profile (its pid files, its ports)."""

    profile: str
    base: int = 0
    directory: Path = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.base or int(os.environ.get("LATCHKEY_STACK_BASE") or BASES[self.profile])
        self.directory = ROOT / ".stack" / self.profile

    def _env(self) -> dict[str, str]:
        digest = hashlib.sha1(str(ROOT).encode(), usedforsecurity=False).hexdigest()[:8]  # as stack.sh names it
        b = self.base
        return {
            **os.environ,
            "CEPH_DIR": str(self.directory / "ceph"),
            "CEPH_MON_PORT": str(b + 100),
            "CEPH_RGW_PORT": str(b + 180),
            "CEPH_RGW2_PORT": str(b + 181),
            "REDIS_DIR": str(self.directory / "redis"),
            "REDIS_PORT": str(b + 179),
            "PG_DIR": f"{os.environ.get('TMPDIR', '/tmp')}/latchkey-pg-{digest}-{self.profile}",  # noqa: S108
            "PG_PORT": str(b + 132),
        }

    def script(self, name: str, action: str) -> None:
        done = subprocess.run(
            [str(ROOT / "scripts" / "stack" / f"{name}.sh"), action],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name}.sh {action} failed: {done.stderr[-500:]}")

    def stop_gateway(self, which: str) -> None:
        """SIGTERM one radosgw (pid from this stack's pid file) and wait until it has exited; KILL
        after 2 s, as the stack scripts do (radosgw 20 takes 9-19 s to honour TERM, which would
        make a stopped gateway a long fault on 20 and a short one elsewhere)."""
        name = "client.rgw.latchkey" if which == "a" else "client.rgw.latchkey-b"
        pid = int((self.directory / "ceph" / "run" / f"{name}.pid").read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 2
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)

    def start_everything(self) -> None:
        """Whatever is down comes back (each script starts only what is not running)."""
        self.script("redis", "start")
        self.script("postgres", "start")
        self.script("ceph", "start")


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status and "State:\tX" not in status


class Celery:
    """The worker (concurrency 2, as deployed) and beat (production's 60 s sweep), restarted
    when they exit, as a supervisor would (docker-compose.yml: restart unless-stopped). The
    worker logs at INFO so its restart can be timed to the "ready" line. Exits the injector did
    not cause are kept as (role, epoch s, exit code) for the checker."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.unplanned: list[tuple[str, float, int]] = []
        self.lock = threading.Lock()

    def _log(self, role: str) -> Path:
        return self.log_dir / f"{role}.log"

    def start(self, role: str) -> None:
        args = ["worker", "--concurrency", "2", "--without-mingle", "--without-gossip"]
        if role == "beat":
            args = ["beat", "-s", str(self.log_dir / "beat.schedule")]
        self.procs[role] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *args, "-l", "INFO"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log(role).open("ab"),
            stderr=subprocess.STDOUT,
        )

    def start_worker_ready(self, timeout: float = 120) -> None:
        """Start the worker and return once it logs that it is ready (its broker connected)."""
        log = self._log("worker")
        offset = log.stat().st_size if log.exists() else 0
        self.start("worker")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with log.open("rb") as f:
                f.seek(offset)
                if b" ready." in f.read():
                    return
            time.sleep(0.2)
        err("soak: the restarted worker did not log 'ready' in time")

    def kill_worker(self) -> None:
        with self.lock:
            proc = self.procs.pop("worker")
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def watch(self) -> None:
        """Restart whatever exited without being killed by the injector (and note it)."""
        with self.lock:
            for role, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    self.unplanned.append((role, time.time(), proc.returncode))
                    err(f"soak: celery {role} exited on its own ({proc.returncode}); restarting it")
                    self.start(role)

    def stop(self) -> None:
        with self.lock:
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in self.procs.values():
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.procs.clear()


class Injector(threading.Thread):
    """Until ``until`` (epoch s): wait a random gap, inject one fault for a random time, restore."""

    def __init__(self, stack: Stack, celery: Celery, until: float, rng: random.Random) -> None:
        super().__init__(name="soak-faults", daemon=True)
        self.stack, self.celery, self.until, self.rng = stack, celery, until, rng
        self.windows: list[Window] = []
        self.errors: list[str] = []
        self._deck: list[str] = []

    def _next_kind(self) -> str:
        if not self._deck:
            self._deck = list(KINDS)
            self.rng.shuffle(self._deck)
        return self._deck.pop()

    def run(self) -> None:
        while True:
            gap = self.rng.uniform(5, 15)
            down = self.rng.uniform(5, 15)
            # The fault and its recovery (radosgw takes a few seconds to start) end before `until`.
            if time.time() + gap + down + 15 > self.until:
                return
            time.sleep(gap)
            kind = self._next_kind()
            window = Window(kind, time.time())
            self.windows.append(window)
            err(f"soak: fault {kind} for {down:.0f} s")
            try:
                self._down(kind)
                time.sleep(down)
            except Exception as exc:
                self.errors.append(f"{kind}: stopping failed: {exc}")
            finally:
                try:
                    self._up(kind)
                except Exception as exc:
                    self.errors.append(f"{kind}: restarting failed: {exc}")
                    self.stack.start_everything()
                window.end = time.time()
            err(f"soak: fault {kind} over after {window.end - window.start:.1f} s")

    def _down(self, kind: str) -> None:
        if kind in ("rgw-a", "rgw-both"):
            self.stack.stop_gateway("a")
        if kind in ("rgw-b", "rgw-both"):
            self.stack.stop_gateway("b")
        if kind in ("redis", "postgres"):
            self.stack.script(kind, "stop")
        if kind == "worker":
            self.celery.kill_worker()

    def _up(self, kind: str) -> None:
        if kind.startswith("rgw"):
            self.stack.script("ceph", "start")
        elif kind in ("redis", "postgres"):
            self.stack.script(kind, "start")
        else:
            self.celery.start_worker_ready()
