"""project_page_with_chart_ms vs project_page_ms: the project page of a project with 200 buckets
and two years of usage history, against the same page of a project with 200 buckets and none.

Both projects are measured in the same run, in-process (Django's test client, no network), each
the median of 50 requests after 5 warm-ups, interleaved in rounds. The history is what the default
LATCHKEY_USAGE_KEEP leaves after two years of ten-minute refreshes: every point for 2 days, hourly
to 30 days, daily to 730 days, for the project and each bucket (about 330,000 points), written
with COPY, then vacuumed and analysed as autovacuum would have. The chart shows the project and its five largest
buckets over the default 30 days; project_page_chart_1y_ms is the same page over one year.
project_page_chart_ratio: with chart / without (goal at most 1.3).
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
from scale_data import copy_rows  # noqa: E402

from accounts.models import User  # noqa: E402
from buckets.models import Bucket  # noqa: E402
from projects.models import Membership, Project, Role  # noqa: E402
from usage.models import TOTAL, UsagePoint  # noqa: E402

BUCKETS = 200
GB = 10**9


def _project(user: User, title: str) -> Project:
    number = str(600000000000 + secrets.randbelow(10**11))
    project = Project.objects.create(
        number=number,
        title=title,
        tenant=f"uc{number}",
        quota_bytes=500 * 10**12,
        usage_bytes=300 * 10**12,
        usage_at=timezone.now(),
    )
    Membership.objects.create(user=user, project=project, role=Role.MANAGER)
    Bucket.objects.bulk_create(
        Bucket(project=project, name=f"bucket-{i:03d}", size_bytes=(i + 1) * GB, object_count=i * 1000)
        for i in range(BUCKETS)
    )
    return project


def _history(project: Project) -> int:
    now = timezone.now()
    times = [now - timedelta(minutes=10 * i) for i in range(2 * 144)]
    times += [now - timedelta(days=2) - timedelta(hours=i) for i in range(28 * 24)]
    times += [now - timedelta(days=30) - timedelta(days=i) for i in range(700)]
    rows = [
        {"project": project.pk, "bucket": name, "at": at, "size_bytes": (i + 1) * 10**9 - j, "object_count": j}
        for i, name in enumerate([TOTAL] + [f"bucket-{k:03d}" for k in range(BUCKETS)])
        for j, at in enumerate(times)
    ]
    copy_rows(UsagePoint, rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE usage_usagepoint")
    return len(rows)


def _median_ms(client: Client, url: str, params: dict[str, str]) -> float:
    times = []
    for _ in range(10):
        start = time.perf_counter()
        assert client.get(url, params, HTTP_HOST="127.0.0.1").status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    user = User.objects.create(username=f"uchart-{secrets.token_hex(4)}")
    plain, charted = _project(user, "No history"), _project(user, "Two years of history")
    points = _history(charted)
    client = Client()
    client.force_login(user)
    pages = {
        "plain": (f"/projects/{plain.number}/", {}),
        "chart": (f"/projects/{charted.number}/", {}),
        "chart_1y": (f"/projects/{charted.number}/", {"range": "1y"}),
    }
    for url, params in pages.values():
        for _ in range(5):
            client.get(url, params, HTTP_HOST="127.0.0.1")
    assert b'class="usage-chart"' in client.get(pages["chart"][0], HTTP_HOST="127.0.0.1").content
    rounds: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(5):  # 5 rounds of 10: a burst of other load moves one round, not the ratio
        for name, (url, params) in pages.items():
            rounds[name].append(_median_ms(client, url, params))
    plain_ms, chart_ms = statistics.median(rounds["plain"]), statistics.median(rounds["chart"])
    print(f"usage_points={points}")
    print(f"project_page_ms={plain_ms:.1f}")
    print(f"project_page_with_chart_ms={chart_ms:.1f}")
    print(f"project_page_chart_1y_ms={statistics.median(rounds['chart_1y']):.1f}")
    print(f"project_page_chart_ratio={chart_ms / plain_ms:.2f}")
    # The bench database outlives the run: leave no third of a million rows to the next one.
    Project.objects.filter(pk__in=[plain.pk, charted.pk]).delete()
    user.delete()


if __name__ == "__main__":
    main()
