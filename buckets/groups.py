"""Groups of a project's members, named in grants: changing who is in one rewrites the policies
of the buckets granted to it (in the worker, queued after the commit)."""

from __future__ import annotations

import logging

from django.db import transaction

from buckets.errors import BucketError
from buckets.models import Bucket, Group
from buckets.sync import mark_dirty, policies_sync_soon
from projects.models import Membership, Project

log = logging.getLogger(__name__)


def _group_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 64:
        raise BucketError("A group name is 1 to 64 characters long.", field="name")
    return name


def group_create(*, project: Project, name: str) -> Group:
    name = _group_name(name)
    if Group.objects.filter(project=project, name__iexact=name).exists():
        raise BucketError("This project already has a group with this name.", field="name")
    return Group.objects.create(project=project, name=name)


def group_set_members(*, group: Group, membership_ids: list[int]) -> int:
    """Replace the group's members. Every bucket whose policy names the group is marked for
    rewriting and a task writes them; returns how many buckets that is."""
    members = list(
        Membership.objects.filter(pk__in=membership_ids, project=group.project, status=Membership.Status.ACTIVE)
    )
    if len(members) != len(set(membership_ids)):
        raise BucketError("Choose members of this project only.", field="members")
    with transaction.atomic():
        group.members.set(members)
        affected = mark_dirty(
            Bucket.objects.filter(grants__group=group).exclude(members_access=Bucket.MembersAccess.READWRITE)
        )
        policies_sync_soon(group.project)
    log.info("group %s: %d members; %d bucket policies to rewrite", group, len(members), affected)
    return affected


def group_delete(*, group: Group) -> int:
    """Delete a group and its grants; the buckets that named it are rewritten by a task."""
    with transaction.atomic():
        affected = mark_dirty(Bucket.objects.filter(grants__group=group))
        group.delete()
        policies_sync_soon(group.project)
    return affected
