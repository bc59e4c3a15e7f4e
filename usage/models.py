"""Usage over time: what Ceph reported for a project and each of its buckets at every refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import models

from projects.models import Project

TOTAL = ""  # the bucket name of a project's own point (its whole usage)
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # thinning intervals are whole steps from here


def interval_start(when: datetime, step: timedelta, origin: datetime = ORIGIN) -> datetime:
    """The start of the ``step``-long interval, counted from ``origin``, that holds ``when``:
    PostgreSQL's date_bin, for the databases that lack it (SQLite in development)."""
    return origin + step * ((when - origin) // step)


class UsagePoint(models.Model):
    """One figure at one time. Buckets are named, not linked: a bucket's history outlives its row
    (a bucket removed and made again keeps one line), and pruning ages it out like any other."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=63, blank=True)  # TOTAL: the project as a whole
    at = models.DateTimeField()
    size_bytes = models.BigIntegerField()
    object_count = models.BigIntegerField()

    class Meta:
        indexes = [
            # Charts and the CSV: one series over a range, read from the index alone.
            models.Index(
                fields=["project", "bucket", "at"], include=["size_bytes", "object_count"], name="usage_series"
            ),
            # Pruning: the points of an age band, across projects.
            models.Index(fields=["at"], name="usage_at"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.bucket or '(project)'} at {self.at}: {self.size_bytes} B"
