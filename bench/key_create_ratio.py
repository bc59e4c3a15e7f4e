"""key_create_portal_ms vs key_create_rgw_ms, measured in one run against the bench stack.

portal: an authenticated HTTP POST of the create-key form to gunicorn (2 workers, as
deployed), through Django, PostgreSQL and Ceph and back, keep-alive connection.
rgw: the raw admin-ops create-key call the portal makes, for the same project user.
The two alternate, so both see the same number of keys on the project user (RGW's cost grows
with it). Prints name=value lines.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

import requests  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from keys.services import key_create  # noqa: E402
from projects.models import Membership, Project  # noqa: E402
from storage import client as storage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def err(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    n = int(os.environ.get("BENCH_N", "100"))
    warmup = 10
    tenant = f"bkc{secrets.token_hex(4)}"
    project = Project.objects.create(number=str(800000000000 + secrets.randbelow(10**11)), title="bench", tenant=tenant)
    user = User.objects.create(username=f"bench-{tenant}")
    membership = Membership.objects.create(user=user, project=project)
    key_create(membership=membership, hours=1, description="provision")  # project user and subuser exist
    membership.refresh_from_db()
    user.refresh_from_db()

    port = _free_port()
    env = {**os.environ, "LATCHKEY_ALLOWED_HOSTS": "127.0.0.1", "LATCHKEY_KEY_MAX_ACTIVE": "100000",
           "LATCHKEY_DATABASE_CONN_MAX_AGE": "60",  # as deployed (docker-compose.yml)
           "LATCHKEY_LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        client = Client()
        client.force_login(user)
        http = requests.Session()
        http.cookies.set("sessionid", client.cookies["sessionid"].value)
        deadline = time.time() + 30
        while True:
            try:
                page = http.get(f"{base}/projects/{project.number}/", timeout=5)
                break
            except requests.ConnectionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        page.raise_for_status()
        csrf = http.cookies["csrftoken"]
        url = f"{base}/projects/{project.number}/keys/new/"
        admin = storage._client()
        uid = storage.uid(tenant)
        subuser = f"{uid}:{user.rgw_name}"

        def portal() -> float:
            start = time.perf_counter()
            response = http.post(url, data={"description": "bench", "hours": "1", "csrfmiddlewaretoken": csrf},
                                 headers={"Referer": url}, timeout=30)  # fmt: skip
            elapsed = time.perf_counter() - start
            if response.status_code != 200 or "Key created" not in response.text:
                raise SystemExit(f"portal create failed: HTTP {response.status_code}")
            return elapsed

        def raw() -> float:
            access = "BR" + secrets.token_hex(9).upper()
            start = time.perf_counter()
            admin.create_key(uid=uid, subuser=subuser, key_type="s3", access_key=access, generate_key=True)
            return time.perf_counter() - start

        for _ in range(warmup):
            portal()
            raw()
        portal_times, raw_times = [], []
        for _ in range(n):
            portal_times.append(portal())
            raw_times.append(raw())
    finally:
        server.terminate()
        server.wait(15)
    portal_ms = statistics.median(portal_times) * 1000
    raw_ms = statistics.median(raw_times) * 1000
    err(f"key_create: cleaning up {len(storage.keys_list(tenant=tenant))} keys")
    for key in storage.keys_list(tenant=tenant):
        storage.key_remove(tenant=tenant, access_key=key.access_key)
    print(f"key_create_portal_ms={portal_ms:.1f}")
    print(f"key_create_rgw_ms={raw_ms:.1f}")
    print(f"key_create_ratio={portal_ms / raw_ms:.2f}")
    print(f"key_create_n={n}")


if __name__ == "__main__":
    main()
