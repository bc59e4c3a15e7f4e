"""Keeping usage points: one per project and bucket at every refresh, thinned as they age.

Thinning keeps, in each age band, the first point of every step-long interval (intervals counted
from a fixed origin, so a kept point stays kept on every later run) and removes points older than
the last band. A run looks only at the points that moved into a band since the previous run,
plus the rest of the intervals they fall in, so its cost follows the new points, not the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from heartbeats.models import Heartbeat
from heartbeats.services import heartbeat_completed
from projects.models import Project
from usage.models import TOTAL, UsagePoint

ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # interval boundaries are whole steps from here


@dataclass(frozen=True)
class Figures:
    bucket: str  # TOTAL for the project as a whole
    size_bytes: int
    object_count: int


def usage_record(*, project: Project, at: datetime, total: tuple[int, int], buckets: Iterable[Figures]) -> int:
    """Store one refresh's figures; returns how many points were written."""
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


def _floor(when: datetime, step: timedelta) -> datetime:
    return ORIGIN + step * ((when - ORIGIN) // step)


def usage_prune(*, now: datetime, keep: Sequence[tuple[int, int]], previous: datetime | None = None) -> dict[str, int]:
    """Thin and drop points by ``keep`` ((age seconds, step seconds or 0 for every point), youngest
    band first; settings.LATCHKEY_USAGE_KEEP). ``previous``: when the last run completed with the
    same ``keep``; None looks at every band whole."""
    thinned = 0
    with transaction.atomic(), connection.cursor() as cursor:
        younger = timedelta(0)
        for age_seconds, step_seconds in keep:
            age, step = timedelta(seconds=age_seconds), timedelta(seconds=step_seconds)
            high, low = now - younger, now - age
            if step and high > low:
                if previous is not None and previous < now:
                    # Points that were younger than this band at the last run, and their intervals.
                    low = max(low, _floor(previous - younger, step))
                params: dict[str, Any] = {"step": step, "origin": ORIGIN, "low": low, "high": high}
                cursor.execute(_THIN, params)
                thinned += max(cursor.rowcount, 0)
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
