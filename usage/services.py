"""Keeping usage points: one per project and bucket at every refresh, thinned as they age.

Thinning keeps, in each age band, the first point of every step-long interval (intervals counted
from a fixed origin, so a kept point stays kept on every later run) and removes points older than
the last band. A run looks only at the points that moved into a band since the previous run,
plus the rest of the intervals they fall in, so its cost follows the new points, not the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from heartbeats.models import Heartbeat
from heartbeats.services import heartbeat_completed
from projects.models import Project
from usage.models import ORIGIN, TOTAL, UsagePoint, interval_start

# A refresh this soon after the project's last point keeps none: the button can be pressed in a loop.
MIN_GAP = timedelta(seconds=60)


@dataclass(frozen=True)
class Figures:
    bucket: str  # TOTAL for the project as a whole
    size_bytes: int
    object_count: int


def usage_record(*, project: Project, at: datetime, total: tuple[int, int], buckets: Iterable[Figures]) -> int:
    """Store one refresh's figures; returns how many points were written (none when the
    project's last point is less than MIN_GAP before ``at``)."""
    if UsagePoint.objects.filter(project=project, bucket=TOTAL, at__gt=at - MIN_GAP, at__lte=at).exists():
        return 0
    points = [UsagePoint(project=project, bucket=TOTAL, at=at, size_bytes=total[0], object_count=total[1])]
    points += [
        UsagePoint(project=project, bucket=f.bucket, at=at, size_bytes=f.size_bytes, object_count=f.object_count)
        for f in buckets
    ]
    UsagePoint.objects.bulk_create(points)
    return len(points)


_THIN = """
DELETE FROM usage_usagepoint AS p USING (
    SELECT id, row_number() OVER (
        PARTITION BY project_id, bucket, date_bin(%(step)s, at, %(origin)s) ORDER BY at, id
    ) AS n
    FROM usage_usagepoint WHERE at >= %(low)s AND at < %(high)s
) AS d
WHERE p.id = d.id AND d.n > 1
"""


def _thin(low: datetime, high: datetime, step: timedelta) -> int:
    """Keep the first point of each series in each ``step`` interval of [low, high)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            params: dict[str, Any] = {"step": step, "origin": ORIGIN, "low": low, "high": high}
            cursor.execute(_THIN, params)
            return max(cursor.rowcount, 0)
    # The same in Python, for SQLite in development (no date_bin, no DELETE ... USING).
    seen, doomed = set(), []
    points = UsagePoint.objects.filter(at__gte=low, at__lt=high).order_by("at", "id")
    for pk, project_id, bucket, at in points.values_list("pk", "project_id", "bucket", "at").iterator():
        interval = (project_id, bucket, interval_start(at, step))
        if interval in seen:
            doomed.append(pk)
        seen.add(interval)
    for i in range(0, len(doomed), 500):  # SQLite's limit on query parameters
        UsagePoint.objects.filter(pk__in=doomed[i : i + 500]).delete()
    return len(doomed)


def usage_prune(*, now: datetime, keep: Sequence[tuple[int, int]], previous: datetime | None = None) -> dict[str, int]:
    """Thin and drop points by ``keep`` ((age seconds, step seconds or 0 for every point), youngest
    band first; settings.LATCHKEY_USAGE_KEEP). ``previous``: when the last run completed with the
    same ``keep``; None looks at every band whole."""
    thinned = 0
    with transaction.atomic():
        younger = timedelta(0)
        for age_seconds, step_seconds in keep:
            age, step = timedelta(seconds=age_seconds), timedelta(seconds=step_seconds)
            high, low = now - younger, now - age
            if step and high > low:
                if previous is not None and previous < now:
                    # Points that were younger than this band at the last run, and their intervals;
                    # one interval more for a refresh that read its time before that run and
                    # committed after it.
                    low = max(low, interval_start(previous - younger, step) - step)
                thinned += _thin(low, high, step)
            younger = age
        expired, _ = UsagePoint.objects.filter(at__lt=now - younger).delete()
    return {"thinned": thinned, "expired": expired}


PRUNE = "usage-prune"  # the heartbeat of usage.tasks.usage_prune_task


def usage_prune_run(*, now: datetime, keep: Sequence[tuple[int, int]]) -> dict[str, int]:
    """The periodic prune: from where the last run with the same ``keep`` left off (all of it
    the first time, or when the bands changed), recorded as a heartbeat."""
    last = Heartbeat.objects.filter(name=PRUNE).first()
    same = last is not None and last.summary.get("keep") == [list(band) for band in keep]
    summary = usage_prune(now=now, keep=keep, previous=last.completed_at if same and last else None)
    heartbeat_completed(name=PRUNE, summary={**summary, "keep": [list(band) for band in keep]}, now=now)
    return summary
