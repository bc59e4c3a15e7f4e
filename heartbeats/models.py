"""When each periodic job was last sent by the scheduler and last finished by a worker.

The web processes cannot see the Celery worker or beat; they read these rows instead, so a
dead worker or beat shows on /health/ready, /metrics and the pages, not only in a log. One row
per job, updated in place: the table never grows.
"""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    name = models.CharField(max_length=64, primary_key=True)
    queued_at = models.DateTimeField(null=True, blank=True)  # beat (or anyone) sent the job
    completed_at = models.DateTimeField(null=True, blank=True)  # a worker finished it
    summary = models.JSONField(default=dict, blank=True)  # what the last completed run reported

    def __str__(self) -> str:
        return f"{self.name}: completed {self.completed_at}"
