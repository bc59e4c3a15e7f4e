"""The one place that finds a bucket, a grant or a group for a request, through the member's
project: outsiders get 404, members whose role does not allow the action get 403."""

from __future__ import annotations

from django.http import Http404

from buckets.models import Bucket, Grant, Group
from projects.access import membership_for
from projects.models import MANAGING, Membership, Role


def project_bucket(
    user: object, number: str, name: str, *, roles: tuple[Role, ...] | None = None
) -> tuple[Membership, Bucket]:
    membership = membership_for(user, number)
    bucket = Bucket.objects.select_related("project").filter(project=membership.project, name=name).first()
    if bucket is None:
        raise Http404("No such bucket")
    if roles is not None:
        membership = membership_for(user, number, roles=roles)
    return membership, bucket


def bucket_grant(user: object, number: str, name: str, grant_id: int) -> tuple[Membership, Grant]:
    membership, bucket = project_bucket(user, number, name, roles=MANAGING)
    grant = Grant.objects.select_related("bucket__project").filter(pk=grant_id, bucket=bucket).first()
    if grant is None:
        raise Http404("No such grant")
    return membership, grant


def project_group(
    user: object, number: str, group_id: int, *, roles: tuple[Role, ...] | None = None
) -> tuple[Membership, Group]:
    membership = membership_for(user, number)
    group = Group.objects.select_related("project").filter(pk=group_id, project=membership.project).first()
    if group is None:
        raise Http404("No such group")
    if roles is not None:
        membership = membership_for(user, number, roles=roles)
    return membership, group
