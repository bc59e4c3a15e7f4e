"""Reads for bucket pages: never a call to Ceph, except the explicit policy view."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from buckets.models import Bucket, Grant, Group, KeyBucket
from buckets.policy import LEVELS
from buckets.reach import owner_sources
from keys.models import AccessKey
from projects.models import Membership, Project
from storage import homes

# The heartbeats of buckets.tasks' periodic jobs (named as their beat entries).
POLICIES_CHECK = "policies-check"
USAGE_REFRESH = "projects-refresh-usage"


def live_grants(now: datetime | None = None) -> QuerySet[Grant]:
    now = now or timezone.now()
    return Grant.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).select_related(
        "member__user", "group", "grantee_project", "grantee_user"
    )


def buckets_of(project_id: int) -> QuerySet[Bucket]:
    """The project's buckets with their live grants, in a fixed number of queries."""
    return Bucket.objects.filter(project_id=project_id).prefetch_related(
        Prefetch("grants", queryset=live_grants().prefetch_related("group__members"), to_attr="live_grants")
    )


def bucket_reach(membership: Membership, buckets: Iterable[Bucket]) -> dict[str, str]:
    """Each of ``buckets`` (from ``buckets_of``) the member may reach now, by name, with "read" or
    "readwrite": what a key of theirs could be scoped to (buckets.scoped_keys.scope_check)."""
    reach = {}
    for bucket in buckets:
        levels = [source.level for source in owner_sources(bucket, membership, grants_of(bucket))]
        if levels:
            reach[bucket.name] = max(levels, key=LEVELS.__getitem__)
    return reach


def grants_of(bucket: Bucket) -> list[Grant]:
    """The bucket's live grants: prefetched by ``buckets_of``, else one query."""
    if not hasattr(bucket, "live_grants"):
        bucket.live_grants = list(live_grants().filter(bucket=bucket))  # type: ignore[attr-defined]
    return list(bucket.live_grants)  # type: ignore[attr-defined]


def access_summary(bucket: Bucket) -> str:
    """One line: who can reach the bucket, e.g. "All members; project 462000009 (read); the public"."""
    grants = grants_of(bucket)
    parts = [{"readwrite": "All members", "read": "All members (read-only)", "none": "Managers"}[bucket.members_access]]
    for grant in grants:
        if grant.kind == Grant.Kind.PUBLIC:
            parts.append("the public (read)")
        else:
            parts.append(f"{grant.grantee_label} ({'read' if grant.access == 'read' else 'read/write'})")
    return "; ".join(parts)


def groups_of(project: Project) -> QuerySet[Group]:
    """The project's groups with their members' users."""
    return Group.objects.filter(project=project).prefetch_related("members__user")


def buckets_granted_to(group: Group) -> QuerySet[Bucket]:
    """The buckets where a grant names the group."""
    return Bucket.objects.filter(grants__group=group).distinct()


def bucket_policy_in_ceph(bucket: Bucket) -> dict[str, Any] | None:
    """The policy Ceph applies to ``bucket`` now (people's statements and Latchkey's)."""
    return homes.bucket_policy_get(bucket.project.home, name=bucket.name)


def bucket_names(project_id: int) -> list[str]:
    return list(Bucket.objects.filter(project_id=project_id).values_list("name", flat=True))


def with_scope_buckets(keys: QuerySet[AccessKey]) -> QuerySet[AccessKey]:
    """Keys with the buckets of their scope fetched in one more query (``key_scope_buckets``)."""
    return keys.prefetch_related(Prefetch("scope_buckets", queryset=KeyBucket.objects.select_related("bucket")))


def key_scope_buckets(key: AccessKey) -> list[tuple[str, str]]:
    """(bucket name, access) of a bucket-scoped key, by name; [] for other keys."""
    if key.scope != AccessKey.Scope.BUCKETS:
        return []
    return sorted((kb.bucket.name, kb.access) for kb in key.scope_buckets.all())


def key_scope_label(key: AccessKey) -> str:
    """The scope in a word or a list: "member", "read-only", "raw:read, results:readwrite"."""
    if key.scope != AccessKey.Scope.BUCKETS:
        return str(key.scope)
    return ", ".join(f"{name}:{access}" for name, access in key_scope_buckets(key)) or "no bucket left"


def buckets_policy_dirty() -> QuerySet[Bucket]:
    """Buckets whose policy Ceph has not yet taken (a group change or a failed write): the
    sync task, or at the latest the drift check, rewrites them."""
    return Bucket.objects.filter(policy_dirty=True)
