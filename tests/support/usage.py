"""A project's usage history as the browser tests chart it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from buckets.models import Bucket
from projects.models import Project
from usage.models import TOTAL, UsagePoint

GB = 10**9


def usage_history(project: Project) -> None:
    """45 days of hourly points: the project grows to 7 GB of its 10 GB quota over three buckets,
    one of which was emptied a week ago; a day without refreshes (a gap) ten days ago."""
    now = timezone.now()
    rows = []
    for hour in range(45 * 24, -1, -1):
        if 10 * 24 <= hour < 11 * 24:
            continue
        at, f = now - timedelta(hours=hour), 1 - hour / (45 * 24)
        raw, results, scratch = int(4.5 * GB * f), int(1.5 * GB * f * f), (GB if hour > 7 * 24 else 0)
        for bucket, size in (
            (TOTAL, raw + results + scratch),
            ("raw", raw),
            ("results", results),
            ("scratch", scratch),
        ):
            rows.append(UsagePoint(project=project, bucket=bucket, at=at, size_bytes=size, object_count=size // 10**7))
    UsagePoint.objects.bulk_create(rows)
    for name, size in (("raw", 45 * GB // 10), ("results", 15 * GB // 10), ("scratch", 0)):
        Bucket.objects.create(project=project, name=name, size_bytes=size, object_count=size // 10**7)


def charted_project(*, tenant: str) -> Project:
    """Project 462000008 (alice's in the test IdP) at 7 GB of its 10 GB quota, with its history."""
    project = Project.objects.create(
        number="462000008",
        title="Climate ensemble",
        tenant=tenant,
        quota_bytes=10 * GB,
        usage_bytes=7 * GB,
        usage_at=timezone.now(),
    )
    usage_history(project)
    return project
