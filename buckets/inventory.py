"""What Ceph holds for a project: its usage and its buckets, read from Ceph and stored with the
time they were read (the pages show them; the periodic refresh keeps them current)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from buckets.models import Bucket
from buckets.sync import policies_sync_soon
from projects.models import Project
from storage import client as storage
from storage import homes
from usage.services import Figures, usage_record


def project_refresh_usage(*, project: Project, now: datetime | None = None) -> None:
    """Usage and the bucket list, both from Ceph now (two admin calls), stored with their time
    and kept as points of the usage history."""
    asked_at = timezone.now()
    if not project.rgw_provisioned:
        usage, buckets = storage.Usage(bytes=0, objects=0), []  # nothing in Ceph yet
    else:
        usage = homes.usage(project.home)
        buckets = homes.buckets(project.home)
    now = now or timezone.now()
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(usage_bytes=usage.bytes, usage_objects=usage.objects, usage_at=now)
        _store_buckets(project, buckets, asked_at=asked_at)
        usage_record(
            project=project,
            at=now,
            total=(usage.bytes, usage.objects),
            buckets=[Figures(b.name, b.size_bytes, b.objects) for b in buckets],
        )
    project.usage_bytes, project.usage_objects, project.usage_at = usage.bytes, usage.objects, now


def _store_buckets(project: Project, buckets: list[storage.BucketFigures], *, asked_at: datetime) -> None:
    """Replace the stored bucket list with Ceph's, in a fixed number of queries. A bucket that
    Latchkey recorded after Ceph was asked is kept: Ceph's list predates it (deleting the row
    would drop its grants)."""
    settled = Q(created_at__isnull=True) | Q(created_at__lt=asked_at)
    Bucket.objects.filter(settled, project=project).exclude(name__in=[b.name for b in buckets]).delete()
    stored = {b.name: b for b in Bucket.objects.filter(project=project)}
    new, changed = [], []
    # A bucket made over S3 has no policy: the members' settings reads (radosgw 20) and a live
    # read-only key's statement come with its first policy, written at once (until then: refused).
    for figures in buckets:
        created = parse_datetime(figures.created) if figures.created else None
        row = stored.get(figures.name)
        if row is None:
            new.append(
                Bucket(
                    project=project,
                    name=figures.name,
                    size_bytes=figures.size_bytes,
                    object_count=figures.objects,
                    created_at=created,
                    policy_dirty=True,
                )
            )
        elif (row.size_bytes, row.object_count, row.created_at) != (figures.size_bytes, figures.objects, created):
            row.size_bytes, row.object_count, row.created_at = figures.size_bytes, figures.objects, created
            changed.append(row)
    Bucket.objects.bulk_create(new)
    Bucket.objects.bulk_update(changed, ["size_bytes", "object_count", "created_at"])
    if new:
        policies_sync_soon(project)


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
