"""A training event on one project, against the bench stack's real Ceph (two gateways), Redis,
PostgreSQL, gunicorn and Celery.

burst_*: 100 members of one project, none of whom has used Ceph yet (each first key also makes
the member's subuser), create a key each within about a second: Locust users (bench/burst_locust.py)
submit the create-key form through gunicorn with 4 workers. A failure is a refused request, a
member left without exactly one active key, or a key Latchkey confirmed that S3 does not accept
at every gateway (the last two are how radosgw's concurrent-modification refusals lost keys
before Latchkey's writes took turns). burst_p99_ms is Locust's p99 of the form submission.

simultaneous_*: those keys then all end in the same second (their expiry moved in the database,
as the tests do), with a real beat (sweep every 10 s, so its exact-time jobs are queued sooner
than with 60 s; the jobs themselves run at the exact time either way) and a worker of
concurrency 4. Lag = the first refusal by S3 at a gateway minus the expiry, for every key at
every gateway; p99 over all of them.

cross_gateway_refusal_p99_s: a member deletes a key (removed through gateway A, the admin
endpoint); from the moment the deletion returns, gateway B is asked until it refuses the key.
B learns of the change only from Ceph's cache notifications, so this measures what a site with
several radosgw daemons behind one name relies on. Every key is first used at B, so B has it cached.

ceph_enforced_end_p99_s (Ceph 19 and later): a key per trainee in an RGW account, each given an
end a few seconds ahead with no worker and no beat running; lag = each gateway's first refusal
minus the end. Burst and simultaneous figures are printed per model (``_tenants``, ``_accounts``)
on 19 and later; the unsuffixed ones are the tenant model's.

Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import statistics
import subprocess
import threading
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from harness import ROOT, celery, err, free_port, gunicorn, stop, wait_up  # noqa: E402
from refusal import Watched, endpoints, p99, refusals_at_each, refused  # noqa: E402

from accounts.models import User  # noqa: E402
from keys.expiry import key_set_expiry  # noqa: E402
from keys.models import AccessKey  # noqa: E402
from keys.services import key_delete  # noqa: E402
from lifecycle.keys import key_create  # noqa: E402
from lifecycle.memberships import membership_provision  # noqa: E402
from portal.celery import app as celery_app  # noqa: E402
from projects.models import Membership, Project, Role  # noqa: E402
from storage import homes  # noqa: E402
from storage.homes import ACCOUNT, TENANT  # noqa: E402
from storage.identity import KeyRights  # noqa: E402

LOG_DIR = ROOT / ".stack" / "bench"
SWEEP_SECONDS = 10
GUNICORN_WORKERS = 4
WORKER_CONCURRENCY = 4


def _training_project(members: int, model: str) -> tuple[Project, Membership, list[Membership]]:
    """A provisioned project (its Ceph user or account exists, the trainer's subuser too) and
    ``members`` new members who have never made a key."""
    tenant = f"burst{secrets.token_hex(4)}"
    project = Project.objects.create(
        number=str(800000000000 + secrets.randbelow(10**11)), title="training", tenant=tenant, storage_model=model
    )
    trainer = Membership.objects.create(
        user=User.objects.create(username=f"trainer-{tenant}"), project=project, role=Role.MANAGER
    )
    membership_provision(membership=trainer)
    trainees = [
        Membership.objects.create(user=User.objects.create(username=f"trainee{i}-{tenant}"), project=project)
        for i in range(members)
    ]
    return project, trainer, trainees


def burst(project: Project, trainees: list[Membership]) -> tuple[int, float, list[Watched]]:
    """Failures, p99 (ms) and the keys made, after every trainee submitted the form once."""
    sessions = LOG_DIR / "burst-sessions"
    cookies = []
    for membership in trainees:
        login = Client()
        login.force_login(membership.user)
        cookies.append(login.cookies["sessionid"].value)
    sessions.touch(mode=0o600)
    sessions.write_text("\n".join(cookies))
    results = LOG_DIR / "burst-results.json"
    results.unlink(missing_ok=True)
    port = free_port()
    server = gunicorn(port, workers=GUNICORN_WORKERS)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(requests.Session(), f"{base}/health/live", server)
        env = {
            **os.environ,
            "BURST_SESSIONS": str(sessions),
            "BURST_PROJECT": project.number,
            "BURST_RESULTS": str(results),
        }
        n = str(len(trainees))
        locust = [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "bench/burst_locust.py"), "--headless"]
        locust += ["--users", n, "--spawn-rate", n, "--host", base, "--run-time", "180s"]
        locust += ["--only-summary", "--loglevel", "WARNING"]
        with (LOG_DIR / "locust.log").open("ab") as log:
            subprocess.run(locust, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=240, check=False)
    finally:
        sessions.unlink(missing_ok=True)
        stop(server)
    if not results.exists():
        raise SystemExit(f"Locust wrote no results; see {LOG_DIR / 'locust.log'}")
    submissions = json.loads(results.read_text())
    errors = [s["error"] for s in submissions if s["error"]]
    for error in sorted(set(errors))[:5]:
        err(f"burst: refused: {error}")
    refused_requests = len(errors) + len(trainees) - len(submissions)  # a member who never got to submit fails too
    keys = list(AccessKey.objects.filter(project=project, owner__in=[m.user for m in trainees]))
    active = [k.owner_id for k in keys if k.status == AccessKey.Status.ACTIVE]
    without_one = sum(active.count(m.user_id) != 1 for m in trainees)
    made = []
    for key in keys:
        secret = homes.key_secret(project.home, access_key=key.access_key_id, user=key.rgw_user)
        if secret is not None and key.status == AccessKey.Status.ACTIVE:
            made.append(Watched(key.access_key_id, secret, 0.0))
    not_working = [k for k in made if any(refused(k.access_key, k.secret, url) for url in endpoints())]
    made = [k for k in made if k not in not_working]
    times = sorted(s["ms"] for s in submissions)
    err(
        f"burst: {len(submissions)} submissions, {len(errors)} refused, {without_one} members without exactly one "
        f"active key, {len(not_working)} confirmed keys S3 refuses; median {statistics.median(times):.0f} ms"
    )
    return refused_requests + without_one + len(not_working), p99(times), made


def simultaneous_expiry(keys: list[Watched], *, through_service: bool = False) -> list[float]:
    """Lags (s) from the common expiry to each gateway's first refusal of each key.
    ``through_service``: the end is set as an operator or an extension sets it (key_set_expiry),
    which on the accounts model also writes it into each key's policy; otherwise in the database
    alone, as the tests do (on the tenant model that is all there is to it)."""
    due = timezone.now().replace(microsecond=0) + timedelta(seconds=2 * SWEEP_SECONDS + 6)
    ids = [k.access_key for k in keys]
    if through_service:
        for key in AccessKey.objects.filter(access_key_id__in=ids).select_related("project"):
            key_set_expiry(key=key, expires_at=due)
    else:
        AccessKey.objects.filter(access_key_id__in=ids).update(expires_at=due, expiry_job_for=None)
    watched = [Watched(k.access_key, k.secret, due.timestamp()) for k in keys]
    celery_app.control.purge()
    env = {"LATCHKEY_SWEEP_SECONDS": str(SWEEP_SECONDS)}
    worker = celery("worker", LOG_DIR / "burst-worker.log", env, concurrency=WORKER_CONCURRENCY)
    beat = celery("beat", LOG_DIR / "burst-beat.log", env)
    try:
        refused_at = refusals_at_each(watched, timeout=2 * SWEEP_SECONDS + 6 + 3 * SWEEP_SECONDS)
    finally:
        stop(beat)
        stop(worker)
    lags = sorted(max(0.0, at - due.timestamp()) for at in refused_at.values())
    err(
        f"simultaneous expiry: median {statistics.median(lags):.3f} s, max {lags[-1]:.3f} s "
        f"over {len(lags)} (key, gateway) pairs"
    )
    return lags


def cross_gateway(trainer: Membership, n: int) -> list[float]:
    """Seconds from a deletion (through gateway A) returning to gateway B refusing the key."""
    gateway_b = endpoints()[-1]
    lags = []
    for i in range(n):
        made = key_create(membership=trainer, hours=1, description=f"cross-gateway {i}")
        deadline = time.monotonic() + 10
        while refused(made.key.access_key_id, made.secret, gateway_b):  # B has seen and cached the key
            if time.monotonic() > deadline:
                raise SystemExit(f"gateway B never accepted the new key {made.key.access_key_id}")
            time.sleep(0.01)
        key_delete(key=made.key, actor=trainer.user)
        removed = time.monotonic()
        while not refused(made.key.access_key_id, made.secret, gateway_b):
            if time.monotonic() - removed > 30:
                raise SystemExit(f"gateway B still accepts {made.key.access_key_id} 30 s after its removal through A")
        lags.append(time.monotonic() - removed)
    err(f"cross gateway: median {statistics.median(lags):.3f} s, max {max(lags):.3f} s over {n} keys")
    return lags


def rgw_floor(project: Project, n: int) -> list[float]:
    """The floor under burst_p99_ms_accounts on this machine: ``n`` keys made at once straight
    through the storage calls a key creation makes (its IAM user with our key id, then its
    policy), no Django, no database, no HTTP; each one's wall time in ms."""
    rights = KeyRights(ends_at=timezone.now() + timedelta(hours=1), actions="write")
    barrier = threading.Barrier(n)
    times: list[float] = []
    users = [f"klk{secrets.token_hex(9)}" for _ in range(n)]

    def make(user: str) -> None:
        barrier.wait()
        started = time.perf_counter()
        homes.key_create(project.home, access_key=user[1:].upper(), user=user, writes=True, rights=rights)
        times.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=make, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for user in users:
        homes.key_remove(project.home, access_key="", user=user)
    err(f"rgw floor: {len(times)} of {n} made, median {statistics.median(times):.0f} ms")
    return sorted(times)


def ceph_enforced_end(trainees: list[Membership]) -> list[float]:
    """Keys in an account whose end passes with no worker and no beat running: a new key per
    trainee, each given an end a few seconds ahead (``key_set_expiry``, which writes it into the
    key's own policy); lag = each gateway's first refusal minus the end, for every key."""
    made = [key_create(membership=m, hours=1, description="ceph-enforced end") for m in trainees]
    due = timezone.now().replace(microsecond=0) + timedelta(seconds=8)
    for issued in made:
        key_set_expiry(key=issued.key, expires_at=due)
    watched = [Watched(issued.key.access_key_id, issued.secret, due.timestamp()) for issued in made]
    refused_at = refusals_at_each(watched, timeout=20, closely=True)
    lags = sorted(max(0.0, at - due.timestamp()) for at in refused_at.values())
    err(f"ceph-enforced end: median {statistics.median(lags):.3f} s, max {lags[-1]:.3f} s over {len(lags)} pairs")
    return lags


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    if len(endpoints()) < 2:
        raise SystemExit("the bench stack should list two gateways in LATCHKEY_S3_ENDPOINTS")
    members = int(os.environ.get("BENCH_BURST_MEMBERS", "100"))
    settings.LATCHKEY_KEY_MAX_ACTIVE = 100_000  # the trainer makes every cross-gateway key
    # Each model in turn, as a site on Ceph 20 runs both: projects already in a tenant, new ones
    # in an account. The unsuffixed lines are the tenant model's, as on every earlier release.
    models = [TENANT, ACCOUNT] if int(os.environ.get("LATCHKEY_CEPH", "16")) >= 19 else [TENANT]
    for model in models:
        suffix = {TENANT: "_tenants", ACCOUNT: "_accounts"}[model]
        project, trainer, trainees = _training_project(members, model)
        if model == TENANT:
            lags = cross_gateway(trainer, int(os.environ.get("BENCH_CROSS_GATEWAY_KEYS", "50")))
            print(f"cross_gateway_refusal_p99_s={p99(lags):.3f}")
        failures, p99_ms, keys = burst(project, trainees)
        print(f"burst_keys{suffix}={members}")
        print(f"burst_failures{suffix}={failures}")
        print(f"burst_p99_ms{suffix}={p99_ms:.0f}")
        if model == ACCOUNT:
            print(f"burst_rgw_p99_ms_accounts={p99(rgw_floor(project, members)):.0f}")
            print(f"ceph_enforced_end_p99_s={p99(ceph_enforced_end(trainees)):.3f}")
        expiry_lags = simultaneous_expiry(keys, through_service=model == ACCOUNT)
        print(f"simultaneous_expiry_keys{suffix}={len(keys)}")
        print(f"simultaneous_revocation_p99_s{suffix}={p99(expiry_lags):.3f}")
        if model == TENANT:
            print(f"burst_p99_ms={p99_ms:.0f}")
            print(f"simultaneous_revocation_p99_s={p99(expiry_lags):.3f}")


if __name__ == "__main__":
    main()
