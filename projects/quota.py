"""Project quota (operators set it, Ceph enforces it) and usage (Ceph reports it, we cache it).

Pages read the cached figures with their time, so rendering never waits on Ceph; the figures
are refreshed by a periodic task and on demand, each refresh synced in Ceph first, so it is
exact at the time shown.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from projects.models import Project
from storage import client as storage

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
        storage.project_quota_set(
            tenant=project.tenant, max_bytes=quota_bytes, max_objects=max_objects, max_buckets=max_buckets
        )
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
    storage.project_quota_set(
        tenant=project.tenant,
        max_bytes=project.quota_bytes,
        max_objects=project.quota_max_objects,
        max_buckets=project.quota_max_buckets,
    )


def project_refresh_usage(*, project: Project, now: datetime | None = None) -> None:
    """Usage and the bucket list, both from Ceph now (two admin calls), stored with their time."""
    asked_at = timezone.now()
    if not project.rgw_provisioned:
        usage, buckets = storage.Usage(bytes=0, objects=0), []  # nothing in Ceph yet
    else:
        usage = storage.project_usage(tenant=project.tenant)
        buckets = storage.project_buckets(tenant=project.tenant)
    now = now or timezone.now()
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(usage_bytes=usage.bytes, usage_objects=usage.objects, usage_at=now)
        _store_buckets(project, buckets, asked_at=asked_at)
    project.usage_bytes, project.usage_objects, project.usage_at = usage.bytes, usage.objects, now


def _store_buckets(project: Project, buckets: list[storage.BucketFigures], *, asked_at: datetime) -> None:
    """Replace the stored bucket list with Ceph's, in a fixed number of queries. A bucket that
    Latchkey recorded after Ceph was asked is kept: Ceph's list predates it (deleting the row
    would drop its grants)."""
    from buckets.models import Bucket

    settled = Q(created_at__isnull=True) | Q(created_at__lt=asked_at)
    Bucket.objects.filter(settled, project=project).exclude(name__in=[b.name for b in buckets]).delete()
    stored = {b.name: b for b in Bucket.objects.filter(project=project)}
    new, changed = [], []
    for figures in buckets:
        created = parse_datetime(figures.created) if figures.created else None
        row = stored.get(figures.name)
        if row is None:
            new.append(Bucket(project=project, name=figures.name, size_bytes=figures.size_bytes,
                              object_count=figures.objects, created_at=created))  # fmt: skip
        elif (row.size_bytes, row.object_count, row.created_at) != (figures.size_bytes, figures.objects, created):
            row.size_bytes, row.object_count, row.created_at = figures.size_bytes, figures.objects, created
            changed.append(row)
    Bucket.objects.bulk_create(new)
    Bucket.objects.bulk_update(changed, ["size_bytes", "object_count", "created_at"])


def projects_refresh_usage(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic refresh: one admin call per project; a failure skips that project only."""
    refreshed = failed = 0
    for project in Project.objects.filter(status=Project.Status.ACTIVE, rgw_provisioned=True):
        try:
            project_refresh_usage(project=project, now=now)
            refreshed += 1
        except storage.StorageError:
            failed += 1
    return {"refreshed": refreshed, "failed": failed}
