"""The project list for a user with 50 projects and 1,000 keys, against 1 project and 1 key.

project_list_queries: SQL queries for the big user (goal: as many as for the small one);
project_list_queries_baseline: the same for 1 project and 1 key;
project_list_p50_ms: median server time (in-process, no network) for the big user;
project_list_ceph_calls: admin calls made while rendering (goal 0).
"""

from __future__ import annotations

import logging
import os
import secrets
import statistics
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from keys.models import AccessKey  # noqa: E402
from projects.models import Membership, Project  # noqa: E402
from storage import client as storage  # noqa: E402


def _user_with(projects: int, keys_per_project: int) -> User:
    tag = secrets.token_hex(4)
    user = User.objects.create(username=f"plist-{projects}-{tag}", rgw_name=f"pl{tag}")
    now = timezone.now()
    for i in range(projects):
        number = str(500000000000 + secrets.randbelow(10**11))
        project = Project.objects.create(
            number=number,
            title=f"Project {i}",
            tenant=f"pl{number}",
            quota_bytes=10**12,
            usage_bytes=10**11 * (i % 10),
            usage_at=now,
        )
        Membership.objects.create(user=user, project=project)
        AccessKey.objects.bulk_create(
            AccessKey(
                access_key_id=f"PL{secrets.token_hex(9).upper()}",
                project=project,
                owner=user,
                subuser=user.rgw_name or "",
                description="bench",
                status=AccessKey.Status.ACTIVE,
                created_at=now,
                expires_at=now + timedelta(hours=5),
            )
            for _ in range(keys_per_project)
        )
    return user


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    calls = 0
    real_call = storage._call

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real_call(*args, **kwargs)  # type: ignore[arg-type]

    storage._call = counting  # type: ignore[assignment]
    small, big = _user_with(1, 1), _user_with(50, 20)
    results = {}
    for name, user in (("small", small), ("big", big)):
        client = Client()
        client.force_login(user)
        for _ in range(5):
            assert client.get("/projects/", HTTP_HOST="127.0.0.1").status_code == 200
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):  # type: ignore[no-untyped-def]
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get("/projects/", HTTP_HOST="127.0.0.1")
        times = []
        for _ in range(50):
            start = time.perf_counter()
            client.get("/projects/", HTTP_HOST="127.0.0.1")
            times.append(time.perf_counter() - start)
        results[name] = (len(executed), statistics.median(times) * 1000)
    print(f"project_list_queries={results['big'][0]}")
    print(f"project_list_queries_baseline={results['small'][0]}")
    print(f"project_list_p50_ms={results['big'][1]:.1f}")
    print(f"project_list_baseline_p50_ms={results['small'][1]:.1f}")
    print(f"project_list_ceph_calls={calls}")


if __name__ == "__main__":
    main()
