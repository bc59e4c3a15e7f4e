"""make soak: several users create, extend, delete and let keys expire through gunicorn while a
fault injector stops and restarts radosgw (one gateway or both), Redis and PostgreSQL and
SIGKILLs the worker; a prober tries ended keys at both gateways throughout; at the end an
invariant checker (soak_check.py) judges everything from outside.

As deployed: gunicorn with 3 workers and DEBUG off, a Celery worker with concurrency 2, beat
with production's 60 s sweep (the 60 s invariant is only meaningful with the real interval).
Two limits are raised for the load by bench/harness.py's gunicorn, as for the benches: live keys
per member and the per-user creation rate (five people create hundreds of keys in ten minutes;
each person still deletes rather than holding more than 8 live keys).

Environment: SOAK_MINUTES (default 10) or SOAK_SECONDS; SOAK_PROFILE, the stack whose services
the injector stops (soak for make soak, test for the suite's short soak; the stack's settings
must be loaded); SOAK_SEED. Prints name=value lines on stdout, each violation on stderr; exits
1 if there was any.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import sys
import time
from pathlib import Path

PROFILE = os.environ.get("SOAK_PROFILE", "soak")
LOG_DIR = Path(__file__).resolve().parent.parent / ".stack" / PROFILE / "soak"
# As deployed, whatever the stack's latchkey.env says (it is written for the tests: DEBUG on).
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "LATCHKEY_DEBUG": "false",
        "LATCHKEY_SECURE_COOKIES": "false",
        "LATCHKEY_SSL_REDIRECT": "false",
        "LATCHKEY_ALLOWED_HOSTS": "127.0.0.1",
        "LATCHKEY_DATABASE_CONN_MAX_AGE": "60",  # the default (scripts/test.sh sets 0 for its threads)
        "LATCHKEY_STATIC_ROOT": str(LOG_DIR / "static"),
    }
)
os.environ.setdefault("LATCHKEY_SECRET_KEY", f"soak-{secrets.token_urlsafe(24)}")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from harness import err, free_port, gunicorn, stop, wait_up  # noqa: E402
from soak_check import LIMIT, check_all, deadline  # noqa: E402
from soak_faults import KINDS, Celery, Injector, Stack  # noqa: E402
from soak_probe import Prober  # noqa: E402
from soak_users import Registry, User  # noqa: E402
from soak_world import world_create  # noqa: E402

from keys.models import AccessKey  # noqa: E402
from portal.celery import app as celery_app  # noqa: E402
from projects.models import Project  # noqa: E402
from storage import client as storage  # noqa: E402
from storage import homes  # noqa: E402

SETTLE_MAX = 2 * LIMIT  # after the load: at most this long for every due key to be refused


def duration() -> float:
    if os.environ.get("SOAK_SECONDS"):
        return float(os.environ["SOAK_SECONDS"])
    return float(os.environ.get("SOAK_MINUTES", "10")) * 60


def wait_first_sweep(log: Path, timeout: float = 120) -> None:
    deadline_at = time.monotonic() + timeout
    while time.monotonic() < deadline_at:
        if log.exists() and "keys.tasks.keys_sweep_task[" in log.read_text(errors="replace").split("soak: start")[-1]:
            return
        time.sleep(0.5)
    raise SystemExit(f"soak: no expiry sweep completed within {timeout:.0f} s; see {log}")


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    seed = int(os.environ.get("SOAK_SEED") or secrets.randbelow(10**6))
    rng = random.Random(seed)  # noqa: S311 -- a reproducible schedule (SOAK_SEED), not a secret
    seconds = duration()
    err(f"soak: {seconds:.0f} s on the {PROFILE} stack, seed {seed}; logs in {LOG_DIR}")
    call_command("collectstatic", "--noinput", verbosity=0)
    celery_app.control.purge()
    run = secrets.token_hex(3)
    world = world_create(run)
    project_ids = [p.pk for p in world.projects]
    stack = Stack(PROFILE)
    for role in ("worker", "beat"):
        with (LOG_DIR / f"{role}.log").open("a") as f:
            f.write("soak: start\n")
    celery = Celery(LOG_DIR, dict(os.environ))
    port = free_port()
    server = gunicorn(port, log=LOG_DIR / "gunicorn.log", workers=3)
    registry = Registry()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(requests.Session(), f"{base}/health/live", server)
        celery.start_worker_ready()
        celery.start("beat")
        wait_first_sweep(LOG_DIR / "worker.log")
        load_end = time.time() + seconds
        users = [User(p, world, base, registry, load_end, rng.randrange(10**9)) for p in world.people]
        for user in users:
            user.prepare()
        endpoints = [url for _, url in settings.LATCHKEY_S3_ENDPOINTS]
        prober = Prober(registry, project_ids, endpoints)
        injector = Injector(stack, celery, load_end, rng)
        prober.start()
        for user in users:
            user.start()
        injector.start()
        while time.time() < load_end or injector.is_alive():
            celery.watch()
            time.sleep(2)
        for user in users:
            user.join()
        stack.start_everything()  # a no-op unless a restart failed
        # Settle: every key due before the load ended must be refused at both gateways by its
        # deadline; wait for that, but no longer than SETTLE_MAX.
        settle_from = time.time()
        windows = injector.windows
        while time.time() - settle_from < SETTLE_MAX:
            celery.watch()
            waiting = prober.unrefused_due(load_end)
            if not waiting:
                break
            latest = max(deadline(prober.seen[k].due or 0, windows) for k in waiting)
            if time.time() > latest + 5:
                break  # past every deadline: the checker reports them
            time.sleep(1)
        settle = time.time() - settle_from
        prober.stop.set()
        prober.join()
        ops = [op for user in users for op in user.ops]
        found = check_all(
            prober=prober, registry=registry, windows=windows, ops=ops, project_ids=project_ids, exits=celery.unplanned
        )
    finally:
        stop(server)
        celery.stop()
    found.violations += [f"fault injector: {e}" for e in injector.errors]
    for note in found.notes:
        err(f"soak: {note}")
    for violation in found.violations:
        err(f"VIOLATION {violation}")
    by_kind = {kind: sum(w.kind == kind for w in windows) for kind in KINDS}
    print(f"soak_seconds={seconds:.0f}")
    print(f"soak_seed={seed}")
    print(f"soak_faults={len(windows)}")
    print("soak_faults_by_kind=" + ",".join(f"{k}:{v}" for k, v in by_kind.items()))
    print(f"soak_operations={len(ops)}")
    print(f"soak_keys_created={len(registry.items())}")
    made = AccessKey.objects.filter(access_key_id__in=[access_key for access_key, _ in registry.items()])
    print(f"soak_scoped_keys_created={made.exclude(rgw_user='').count()}")
    print(f"soak_probes={sum(prober.probes.values())}")
    print(f"soak_probes_undecided={prober.probes['undecided']}")
    print(f"soak_settle_s={settle:.1f}")
    for name, value in found.figures.items():
        print(f"{name}={value}")
    print(f"soak_violations={len(found.violations)}")
    remove_keys(world.projects)
    sys.exit(1 if found.violations else 0)


def remove_keys(projects: list[Project]) -> None:
    """Leave no soak key in Ceph (the suite's stack lives on after the short soak)."""
    for project in projects:
        for stored in storage.keys_list(tenant=project.tenant):
            storage.key_remove(tenant=project.tenant, access_key=stored.access_key)
        for access_key, user in (
            AccessKey.objects.filter(project=project).exclude(rgw_user="").values_list("access_key_id", "rgw_user")
        ):
            homes.key_remove(project.home, access_key=access_key, user=user)


if __name__ == "__main__":
    main()
