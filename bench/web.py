"""web_rps_key_list vs web_rps_hello, and memory_mb_stack (bench stack, one run).

web_rps_hello: /health/live, a bare Django view behind the full middleware, served by the same
gunicorn (2 sync workers, as deployed) in the same run. web_rps_key_list: the page that lists a
member's keys (/projects/N/keys/, 10 keys), logged in; web_rps_project_page: the project page.
Each for 5 s from 4 client threads, in three interleaved rounds (hello, key list, project page,
hello, ...); each figure is the median of its rounds, so a burst of other load on the machine
moves one round, not the ratio.
memory_mb_stack: the proportional set size (PSS) of every process of the local stack at rest:
Ceph (mon, OSD, radosgw), Redis, PostgreSQL, the test IdP, gunicorn, the Celery worker and beat.

Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import threading
import time
from pathlib import Path

import django
import requests
from harness import ROOT, celery, err, free_port, gunicorn, stop, wait_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from lifecycle.keys import key_create  # noqa: E402
from projects.models import Membership, Project  # noqa: E402

SECONDS, THREADS, ROUNDS = 5.0, 4, 3


def rps(url: str, cookies: dict[str, str]) -> float:
    done = [0] * THREADS
    stop_at = time.monotonic() + SECONDS

    def client(i: int) -> None:
        http = requests.Session()
        http.cookies.update(cookies)
        while time.monotonic() < stop_at:
            if http.get(url, timeout=30).status_code == 200:
                done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / SECONDS


def _children(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def _pss_mb(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _stack_pids() -> set[int]:
    stack = ROOT / ".stack" / "bench"
    files = [*(stack / "ceph" / "run").glob("*.pid"), stack / "redis" / "redis.pid", stack / "idp" / "idp.pid"]
    roots = [int(f.read_text().split()[0]) for f in files if f.exists()]
    pg_dir = os.environ.get("BENCH_PG_DIR")
    postmaster = Path(pg_dir) / "data" / "postmaster.pid" if pg_dir else None
    if postmaster and postmaster.exists():
        roots.append(int(postmaster.read_text().split()[0]))
    return {p for root in roots for p in _children(root)}


def main() -> None:
    tag = secrets.token_hex(4)
    project = Project.objects.create(
        number=str(600000000000 + secrets.randbelow(10**11)), title="web", tenant=f"w{tag}"
    )
    user = User.objects.create(username=f"web-{tag}")
    membership = Membership.objects.create(user=user, project=project)
    for i in range(10):  # the most a member may hold in one project
        key_create(membership=membership, hours=2, description=f"bench key {i}")
    login = Client()
    login.force_login(user)
    cookies = {"sessionid": login.cookies["sessionid"].value}
    port = free_port()
    server = gunicorn(port)
    log_dir = ROOT / ".stack" / "bench"
    env = {"LATCHKEY_SWEEP_SECONDS": "10"}  # as bench/revocation.py runs them
    worker, beat = celery("worker", log_dir / "web-worker.log", env), celery("beat", log_dir / "web-beat.log", env)
    try:
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        http.cookies.update(cookies)
        if wait_up(http, f"{base}/projects/{project.number}/", server).status_code != 200:
            raise SystemExit("the key list page did not load")
        rounds = [
            (
                rps(f"{base}/health/live", {}),
                rps(f"{base}/projects/{project.number}/keys/", cookies),
                rps(f"{base}/projects/{project.number}/", cookies),
            )
            for _ in range(ROUNDS)
        ]
        err(
            "web: rounds (hello, key list, project page) " + "; ".join(f"{a:.0f} {b:.0f} {c:.0f}" for a, b, c in rounds)
        )
        hello, keys, dashboard = (statistics.median(column) for column in zip(*rounds, strict=True))
        err("web: measuring memory at rest")
        time.sleep(5)
        pids = _stack_pids() | set(_children(server.pid)) | set(_children(worker.pid)) | set(_children(beat.pid))
        memory = _pss_mb(pids)
    finally:
        for proc in (beat, worker):
            stop(proc)
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"web_rps_hello={hello:.0f}")
    print(f"web_rps_key_list={keys:.0f}")
    print(f"web_rps_ratio={keys / hello:.2f}")
    print(f"web_rps_project_page={dashboard:.0f}")
    print(f"memory_mb_stack={memory:.0f}")
    print(f"memory_stack_processes={len(pids)}")


if __name__ == "__main__":
    main()
