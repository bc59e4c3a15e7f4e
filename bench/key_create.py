"""key_create_portal_ms vs key_create_rgw_ms, measured interleaved in one run (bench stack).

portal: an authenticated HTTP POST of the create-key form to a real gunicorn (2 workers, as
deployed) over a keep-alive connection: Django, PostgreSQL, Ceph and back.
rgw: the raw admin-ops create_key call the portal makes, for the same project user and subuser.
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
from keys.models import AccessKey  # noqa: E402
from lifecycle.memberships import membership_provision  # noqa: E402
from projects.models import Membership, Project  # noqa: E402
from storage import client as storage  # noqa: E402


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    n = int(os.environ.get("BENCH_N", "100"))
    warmup = int(os.environ.get("BENCH_WARMUP", "10"))
    tenant = f"b{secrets.token_hex(6)}"
    project = Project.objects.create(number=str(700000000000 + secrets.randbelow(10**11)), title="bench", tenant=tenant)
    user = User.objects.create(username=f"bench-{tenant}")
    membership = Membership.objects.create(user=user, project=project)
    membership_provision(membership=membership)  # project user T$T and the member's subuser
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
        admin = storage._client()

        def portal() -> None:
            response = http.post(url, data=form, headers={"Referer": url}, timeout=30)
            if response.status_code != 200 or "Key created" not in response.text:
                raise SystemExit(f"portal create failed: HTTP {response.status_code}: {response.text[:300]}")

        def raw() -> None:
            access_key = "BR" + secrets.token_hex(9).upper()  # 20 characters, unique
            raw_keys.append(access_key)
            admin.create_key(uid=uid, subuser=subuser, key_type="s3", access_key=access_key, generate_key=True)

        portal_ms: list[float] = []
        raw_ms: list[float] = []
        for i in range(warmup + n):
            p, r = timed(portal), timed(raw)
            if i >= warmup:
                portal_ms.append(p)
                raw_ms.append(r)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        portal_keys = list(AccessKey.objects.filter(project=project).values_list("access_key_id", flat=True))
        err(f"key_create: removing {len(portal_keys) + len(raw_keys)} bench keys")
        for access_key in portal_keys + raw_keys:
            storage.key_remove(tenant=tenant, access_key=access_key)
        AccessKey.objects.filter(project=project).delete()
        project.delete()
        user.delete()
    portal_p50, raw_p50 = statistics.median(portal_ms), statistics.median(raw_ms)
    print(f"key_create_portal_ms={portal_p50:.1f}")
    print(f"key_create_rgw_ms={raw_p50:.1f}")
    print(f"key_create_ratio={portal_p50 / raw_p50:.2f}")
    print(f"key_create_n={n}")


if __name__ == "__main__":
    main()
