"""Why a member may reach a bucket: the facts from the database that both the bucket policies
(buckets/sync.py) and, where keys carry their own rights, each key's policy
(buckets/key_rights.py) are computed from."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from buckets import policy
from buckets.models import Bucket, Grant
from projects.models import MANAGING, WRITING, Membership


def live_condition(now: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def live_grants(bucket: Bucket, *, now: datetime) -> list[Grant]:
    return list(Grant.objects.filter(live_condition(now), bucket=bucket).prefetch_related("group__members"))


def live_grants_by_bucket(buckets: list[Bucket], *, now: datetime) -> dict[int, list[Grant]]:
    """``live_grants`` of each of ``buckets``, by bucket id, in two queries however many."""
    found: dict[int, list[Grant]] = {bucket.pk: [] for bucket in buckets}
    grants = Grant.objects.filter(live_condition(now), bucket__in=list(found)).prefetch_related("group__members")
    for grant in grants:  # in the model's order, as live_grants gives them
        found[grant.bucket_id].append(grant)
    return found


def owner_sources(bucket: Bucket, membership: Membership, grants: list[Grant]) -> tuple[policy.MemberSource, ...]:
    """Why an active member may reach ``bucket``: everything for managers and deputies, else the
    bucket's rule for all members and the grants to them or their groups, read at most for a
    read-only role."""
    if membership.role in MANAGING:
        return (policy.MemberSource("readwrite"),)
    sources = [policy.MemberSource(bucket.members_access)] if bucket.members_access != "none" else []
    for grant in grants:
        if (grant.kind == Grant.Kind.MEMBER and grant.member_id == membership.pk) or (
            grant.kind == Grant.Kind.GROUP
            and grant.group is not None
            and any(m.pk == membership.pk for m in grant.group.members.all())
        ):
            sources.append(
                policy.MemberSource(level=grant.access, cidrs=tuple(grant.cidrs), expires_at=grant.expires_at)
            )
    if membership.role not in WRITING:
        sources = [policy.MemberSource("read", s.cidrs, s.expires_at) for s in sources]
    return tuple(sources)
