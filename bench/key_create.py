"""key_create_portal_ms vs key_create_rgw_ms, and scoped_key_create_ms, measured interleaved in
one run (bench stack).

portal: an authenticated HTTP POST of the create-key form to a real gunicorn (2 workers, as
deployed) over a keep-alive connection: Django, PostgreSQL, Ceph and back.
rgw: the raw admin-ops create_key call the portal makes, for the same project user and subuser.
scoped: the same form asking for a key limited to one bucket, read-write: its own RGW user and a
rewrite of that bucket's policy (which names every scoped key made so far, grouped).
The two alternate, so both see the same number of keys on the project user (RGW's cost grows
with it). On Ceph 19 and later the portal and scoped figures are measured again for a project in
an RGW account (``_accounts``; each key an IAM user with its policy), beside the tenant model's
(``_tenants``). Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import logging
import os
import secrets
import statistics
import subprocess

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

import requests  # noqa: E402
from django.test import Client  # noqa: E402
from harness import err, free_port, gunicorn, timed, wait_up  # noqa: E402

from accounts.models import User  # noqa: E402
from buckets.models import Bucket  # noqa: E402
from buckets.services import bucket_create  # noqa: E402
from keys.models import AccessKey  # noqa: E402
from lifecycle.memberships import membership_provision  # noqa: E402
from projects.models import Membership, Project, Role  # noqa: E402
from storage import client as storage  # noqa: E402
from storage import homes  # noqa: E402
from storage.homes import ACCOUNT, TENANT  # noqa: E402


def measure(model: str, n: int, warmup: int) -> tuple[list[float], list[float], list[float]]:
    """Portal, raw admin (tenant model only: the project user's create_key) and scoped times."""
    tenant = f"b{secrets.token_hex(6)}"
    project = Project.objects.create(
        number=str(700000000000 + secrets.randbelow(10**11)), title="bench", tenant=tenant, storage_model=model
    )
    user = User.objects.create(username=f"bench-{tenant}")
    membership = Membership.objects.create(user=user, project=project, role=Role.MANAGER)
    membership_provision(membership=membership)  # project user T$T and the member's subuser
    bucket = bucket_create(membership=membership, name=f"bench-scoped-{tenant}")
    uid, subuser = storage.uid(tenant), storage.subuser_id(tenant, user.rgw_name or "")
    raw_keys: list[str] = []
    port = free_port()
    server = gunicorn(port)
    try:
        base = f"http://127.0.0.1:{port}"
        login = Client()
        login.force_login(user)
        http = requests.Session()
        http.cookies.set("sessionid", login.cookies["sessionid"].value)
        page = wait_up(http, f"{base}/projects/{project.number}/", server)
        if page.status_code != 200 or "csrftoken" not in http.cookies:
            raise SystemExit(f"project page: HTTP {page.status_code}, no CSRF cookie")
        url = f"{base}/projects/{project.number}/keys/new/"
        form = {"description": "bench", "hours": "1", "csrfmiddlewaretoken": http.cookies["csrftoken"]}
        scoped_form = {**form, "scope": "buckets", "write_buckets": bucket.name}
        admin = storage._client()

        def post(data: dict[str, str]) -> None:
            response = http.post(url, data=data, headers={"Referer": url}, timeout=30)
            if response.status_code != 200 or "Key created" not in response.text:
                raise SystemExit(f"portal create failed: HTTP {response.status_code}: {response.text[:300]}")

        def portal() -> None:
            post(form)

        def scoped() -> None:
            post(scoped_form)

        def raw() -> None:
            if model == ACCOUNT:
                return  # no subuser to add a key to: the portal's own call is the whole work
            access_key = "BR" + secrets.token_hex(9).upper()  # 20 characters, unique
            raw_keys.append(access_key)
            admin.create_key(uid=uid, subuser=subuser, key_type="s3", access_key=access_key, generate_key=True)

        portal_ms: list[float] = []
        raw_ms: list[float] = []
        scoped_ms: list[float] = []
        for i in range(warmup + n):
            p, r, sc = timed(portal), timed(raw), timed(scoped)
            if i >= warmup:
                portal_ms.append(p)
                raw_ms.append(r)
                scoped_ms.append(sc)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        made = AccessKey.objects.filter(project=project)
        home = project.home
        err(f"key_create: removing {made.count() + len(raw_keys)} bench keys")
        for access_key, user_id in made.values_list("access_key_id", "rgw_user"):
            homes.key_remove(home, access_key=access_key, user=user_id)
        for access_key in raw_keys:
            storage.key_remove(tenant=tenant, access_key=access_key)
        homes.bucket_remove(home, name=bucket.name)
        made.delete()
        Bucket.objects.filter(project=project).delete()
        project.delete()
        user.delete()
    return portal_ms, raw_ms, scoped_ms


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    n = int(os.environ.get("BENCH_N", "100"))
    warmup = int(os.environ.get("BENCH_WARMUP", "10"))
    # On Ceph 19 and later both models, in one run; the unsuffixed lines are the tenant model's.
    models = [TENANT, ACCOUNT] if int(os.environ.get("LATCHKEY_CEPH", "16")) >= 19 else [TENANT]
    for model in models:
        portal_ms, raw_ms, scoped_ms = measure(model, n, warmup)
        suffix = {TENANT: "_tenants", ACCOUNT: "_accounts"}[model]
        portal_p50, scoped_p50 = statistics.median(portal_ms), statistics.median(scoped_ms)
        print(f"key_create_portal_ms{suffix}={portal_p50:.1f}")
        print(f"scoped_key_create_ms{suffix}={scoped_p50:.1f}")
        if model == TENANT:
            raw_p50 = statistics.median(raw_ms)
            print(f"key_create_portal_ms={portal_p50:.1f}")
            print(f"key_create_rgw_ms={raw_p50:.1f}")
            print(f"key_create_ratio={portal_p50 / raw_p50:.2f}")
            print(f"key_create_n={n}")
            print(f"scoped_key_create_ms={scoped_p50:.1f}")
            print(f"scoped_key_create_ratio={scoped_p50 / portal_p50:.2f}")


if __name__ == "__main__":
    main()
