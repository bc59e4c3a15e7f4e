"""key_create_portal_ms vs key_create_rgw_ms, and scoped_key_create_ms, measured interleaved in
one run (bench stack).

portal: an authenticated HTTP POST of the create-key form to a real gunicorn (2 workers, as
deployed) over a keep-alive connection: Django, PostgreSQL, Ceph and back.
rgw: the raw admin-ops create_key call the portal makes, for the same project user and subuser.
scoped: the same form asking for a key limited to one bucket, read-write: its own RGW user and a
rewrite of that bucket's policy (which names every scoped key made so far, grouped).
The two alternate, so both see the same number of keys on the project user (RGW's cost grows
with it). Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
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


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    n = int(os.environ.get("BENCH_N", "100"))
    warmup = int(os.environ.get("BENCH_WARMUP", "10"))
    tenant = f"b{secrets.token_hex(6)}"
    project = Project.objects.create(number=str(700000000000 + secrets.randbelow(10**11)), title="bench", tenant=tenant)
    user = User.objects.create(username=f"bench-{tenant}")
    membership = Membership.objects.create(user=user, project=project, role=Role.MANAGER)
    membership_provision(membership=membership)  # project user T$T and the member's subuser
    bucket = bucket_create(membership=membership, name="bench-scoped")
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
        portal_keys = list(made.filter(rgw_user="").values_list("access_key_id", flat=True))
        scoped_users = list(made.exclude(rgw_user="").values_list("rgw_user", flat=True))
        err(f"key_create: removing {len(portal_keys) + len(raw_keys) + len(scoped_users)} bench keys")
        for access_key in portal_keys + raw_keys:
            storage.key_remove(tenant=tenant, access_key=access_key)
        for scoped_user in scoped_users:
            storage.scoped_user_remove(tenant=tenant, user=scoped_user)
        storage.bucket_remove(tenant=tenant, name=bucket.name)
        made.delete()
        Bucket.objects.filter(project=project).delete()
        project.delete()
        user.delete()
    portal_p50, raw_p50 = statistics.median(portal_ms), statistics.median(raw_ms)
    print(f"key_create_portal_ms={portal_p50:.1f}")
    print(f"key_create_rgw_ms={raw_p50:.1f}")
    print(f"key_create_ratio={portal_p50 / raw_p50:.2f}")
    print(f"key_create_n={n}")
    print(f"scoped_key_create_ms={statistics.median(scoped_ms):.1f}")
    print(f"scoped_key_create_ratio={statistics.median(scoped_ms) / portal_p50:.2f}")


if __name__ == "__main__":
    main()
