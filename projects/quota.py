"""Project quota (operators set it, Ceph enforces it) and usage (Ceph reports it, we cache it).

Pages read the cached figures with their time, so rendering never waits on Ceph; the figures
are refreshed by a periodic task and on demand, each refresh synced in Ceph first, so it is
exact at the time shown.
"""

from __future__ import annotations

import logging

from projects.models import Project
from storage import homes

log = logging.getLogger(__name__)
GB = 10**9


class QuotaError(ValueError):
    """A quota that cannot be applied; the message is meant for the operator."""


def project_set_quota(
    *, project: Project, quota_bytes: int | None, max_objects: int | None = None, max_buckets: int | None = None
) -> bool:
    """Apply a quota (None: no limit) in Ceph, then record it. Returns True when the quota is
    below the project's current use: allowed (uploads stop until data is removed), but flagged.
    A Ceph failure raises before anything is recorded."""
    for name, value in (("quota", quota_bytes), ("max objects", max_objects), ("max buckets", max_buckets)):
        if value is not None and value < 0:
            raise QuotaError(f"The {name} cannot be negative.")
    if project.rgw_provisioned:
        homes.quota_set(project.home, max_bytes=quota_bytes, max_objects=max_objects, max_buckets=max_buckets)
    Project.objects.filter(pk=project.pk).update(
        quota_bytes=quota_bytes, quota_max_objects=max_objects, quota_max_buckets=max_buckets
    )
    project.quota_bytes, project.quota_max_objects, project.quota_max_buckets = quota_bytes, max_objects, max_buckets
    log.info(
        "project %s: quota %s bytes, %s objects, %s buckets", project.number, quota_bytes, max_objects, max_buckets
    )
    return quota_bytes is not None and project.usage_bytes is not None and project.usage_bytes > quota_bytes


def project_apply_quota(*, project: Project) -> None:
    """Push the recorded quota to Ceph (after the project user is created)."""
    if project.quota_bytes is None and project.quota_max_objects is None and project.quota_max_buckets is None:
        return
    homes.quota_set(
        project.home,
        max_bytes=project.quota_bytes,
        max_objects=project.quota_max_objects,
        max_buckets=project.quota_max_buckets,
    )
