"""scale_*: how costs grow with the size of the database, measured in one run.

The bench fills a database of its own (``latchkey_scale`` on the bench stack's PostgreSQL,
made fresh and dropped at the end, so rows left by other benches never count) to 1/100 of a
large site (bench/scale_data.py: 100 projects, 200 users, 1,000 keys, 50 buckets), measures,
grows it to full size (10,000 projects, 20,000 users, 100,000 keys, 5,000 buckets) and measures
again. The measured user's 200 projects, the measured project's keys, events and buckets are the
same at both sizes; only the tables around them grow. Each figure is a median of repetitions;
``scale_<name>_ratio`` is its cost at full size over its cost at 1/100 (goal <= 1.5) and
``scale_<name>_ms`` the cost at full size.

- pages, through gunicorn (2 workers, DEBUG off) with a logged-in session: the project list of a
  user in 200 projects, the key list of the measured project (``key_page``), the project page,
  the audit page (as its manager), and the Django admin's key and project lists (as an operator);
- ``sweep``: the expiry sweep's queries (in-process; nothing is due, so it calls no Ceph);
- per item, against the real Ceph of the bench stack: the reconciler (per project), the usage
  refresh (per project) and the policy drift check (per bucket).

Real Ceph items: 10 projects at 1/100 and 100 at full size, each made through the services as
people make them (the project's Ceph user, a member's subuser, two live keys, one bucket; every
other bucket restricted, so its policy names members). Ceph grows 10x, not 100x: at about 0.3 s
of Ceph calls per project, 100x would be 1,000 projects and five minutes of set-up, and 1 project
at 1/100 would make a per-item figure of a single sample. The per-item ratios compare time per
project (or bucket) with 10x the items in Ceph and 100x the rows in PostgreSQL around them.

Also printed: ``scale_queries_grown``, how many pages and jobs ran more SQL queries at full size
than at 1/100 (an N+1 shows here first; the counts are on stderr), and the seconds it took to
grow PostgreSQL from 1/100 to full size (``scale_fill_full_s``) and to add the 90 Ceph projects
(``scale_ceph_setup_full_s``).
Run by bench/run.sh (``bench/run.sh scale``); BENCH_SCALE_FACTOR (default 1) shrinks the full
size for a quick try.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg

SCALE_DB = "latchkey_scale"
_SERVER_URL = os.environ["LATCHKEY_DATABASE_URL"]
os.environ["LATCHKEY_DATABASE_URL"] = urlsplit(_SERVER_URL)._replace(path=f"/{SCALE_DB}").geturl()


def _database(action: str) -> None:
    with psycopg.connect(_SERVER_URL, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {SCALE_DB} WITH (FORCE)")
        if action == "create":
            db.execute(f"CREATE DATABASE {SCALE_DB}")


_database("create")

import django  # noqa: E402
import requests  # noqa: E402
from harness import err, free_port, gunicorn, stop, wait_up  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from scale_ceph import ceph_projects  # noqa: E402
from scale_data import FULL, Measured, Size, fill_background, fill_measured  # noqa: E402

from buckets.inventory import projects_refresh_usage  # noqa: E402
from buckets.sync import policies_check  # noqa: E402
from keys.expiry import keys_sweep  # noqa: E402
from keys.reconcile import keys_reconcile  # noqa: E402
from projects.models import Project  # noqa: E402

CEPH_PROJECTS = (10, 100)
PAGE_RUNS, JOB_RUNS = 25, 5


def _queries(call: Callable[[], object]) -> int:
    executed = 0

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    return executed


def _session(user: object) -> dict[str, str]:
    login = Client()
    login.force_login(user)  # type: ignore[arg-type]
    return {"sessionid": login.cookies["sessionid"].value}


def _pages(measured: Measured) -> dict[str, tuple[str, object]]:
    number = measured.project.number
    return {
        "project_list": ("/projects/", measured.user),
        "key_page": (f"/projects/{number}/keys/", measured.user),
        "project_page": (f"/projects/{number}/", measured.user),
        "audit_page": (f"/projects/{number}/audit/", measured.user),
        "admin_keys": ("/admin/keys/accesskey/", measured.admin),
        "admin_projects": ("/admin/projects/project/", measured.admin),
    }


def _page_costs(base: str, measured: Measured) -> dict[str, tuple[float, float]]:
    """Median ms through gunicorn, and the SQL queries of one in-process request."""
    result = {}
    for name, (path, user) in _pages(measured).items():
        http = requests.Session()
        http.cookies.update(_session(user))
        times = []
        for run in range(3 + PAGE_RUNS):
            start = time.perf_counter()
            answer = http.get(base + path, timeout=120)
            if answer.status_code != 200 or "login" in answer.url:
                raise SystemExit(f"{path}: {answer.status_code} at {answer.url}")
            if run >= 3:
                times.append((time.perf_counter() - start) * 1000)
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        queries = _queries(lambda: client.get(path, HTTP_HOST="127.0.0.1"))  # noqa: B023 (called at once)
        result[name] = (statistics.median(times), float(queries))
    return result


def _per_item(job: Callable[[], int], runs: int) -> tuple[float, float]:
    """Median ms per item over ``runs`` runs of ``job`` (which returns the items it processed),
    and the SQL queries per item of one more run."""
    per_item = []
    for _ in range(runs):
        start = time.perf_counter()
        items = job()
        per_item.append((time.perf_counter() - start) * 1000 / items)
    items = 0

    def counted() -> None:
        nonlocal items
        items = job()

    queries = _queries(counted)
    return statistics.median(per_item), queries / items


def _sweep() -> int:
    keys_sweep()
    return 1


def _reconcile() -> int:
    report = keys_reconcile()
    assert not any(report.summary().values()), report.summary()  # Ceph and the database agree
    return Project.objects.filter(rgw_provisioned=True).count()


def _usage_refresh() -> int:
    summary = projects_refresh_usage()
    assert not summary["failed"], summary
    return summary["refreshed"]


def _drift_check() -> int:
    summary = policies_check()
    assert not summary["failed"] and not summary["written"], summary  # nothing drifted
    return summary["unchanged"]


JOBS = {
    "sweep": (_sweep, PAGE_RUNS),
    "reconcile_per_item": (_reconcile, JOB_RUNS),
    "usage_refresh_per_item": (_usage_refresh, JOB_RUNS),
    "drift_check_per_item": (_drift_check, JOB_RUNS),
}


def _timed_ms(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def _fill(target: Size, ceph: int, tag: str) -> tuple[float, float]:
    """Grow the background to ``target`` and Ceph to ``ceph`` projects; seconds each took."""
    started = time.perf_counter()
    fill_background(target, now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum would have done on a site this size
    fill_s = time.perf_counter() - started
    err(f"scale: background at {target} in {fill_s:.1f} s")
    started = time.perf_counter()
    # Each new project's Ceph user is looked up before it is made: a warning per project otherwise.
    logging.getLogger("storage.client").setLevel(logging.ERROR)
    ceph_projects(ceph, tag=tag)
    logging.getLogger("storage.client").setLevel(logging.WARNING)
    ceph_s = time.perf_counter() - started
    err(f"scale: {ceph} projects in Ceph in {ceph_s:.1f} s")
    return fill_s, ceph_s


def main() -> None:
    factor = float(os.environ.get("BENCH_SCALE_FACTOR", "1"))
    full = FULL.scaled(factor)
    tag = f"{int(time.time()) % 10**6:06d}"
    call_command("migrate", verbosity=0)
    measured = fill_measured(now=timezone.now())
    port = free_port()
    server = gunicorn(port)
    costs, setup = {}, (0.0, 0.0)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(requests.Session(), f"{base}/health/live", server)
        for label, target, ceph in (("small", full.scaled(0.01), CEPH_PROJECTS[0]), ("full", full, CEPH_PROJECTS[1])):
            setup = _fill(target, ceph, tag)
            err(f"scale: measuring at {label} size")
            costs[label] = {**_page_costs(base, measured), **{n: _per_item(*job) for n, job in JOBS.items()}}
            for name, (ms, queries) in costs[label].items():
                err(f"scale: {label} {name}: {ms:.2f} ms, {queries:g} queries")
    finally:
        stop(server)
        connection.close()
        _database("drop")
    for name, (ms, _) in costs["full"].items():
        print(f"scale_{name}_ratio={ms / costs['small'][name][0]:.2f}")
        print(f"scale_{name}_ms={ms:.2f}")
    print(f"scale_fill_full_s={setup[0]:.1f}")
    print(f"scale_ceph_setup_full_s={setup[1]:.1f}")
    print(f"scale_queries_grown={sum(costs['full'][n][1] > costs['small'][n][1] for n in costs['full'])}")


if __name__ == "__main__":
    main()
