"""Writes to grants and groups. Each change is checked completely before anything is written;
a grant change writes the bucket's policy to Ceph before its transaction commits, so a Ceph
refusal leaves both stores as they were."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.services import user_ensure_rgw_name
from buckets.errors import BucketError
from buckets.models import Access, Bucket, Grant, Group
from buckets.sync import bucket_locked, bucket_policy_sync
from projects.models import Membership, Project
from projects.services import project_provision
from storage import client as storage

log = logging.getLogger(__name__)
MAX_CIDRS = 20
MAX_GRANTS_PER_BUCKET = 100


@dataclass
class GrantRequest:
    kind: str
    access: str = Access.READ
    member_id: int | None = None
    group_id: int | None = None
    project_number: str = ""
    user: str = ""  # username or e-mail address of a member of ``project_number``
    cidrs: list[str] = field(default_factory=list)
    expires_at: datetime | None = None
    public_confirmed: bool = False


def parse_cidrs(text: str) -> list[str]:
    """Addresses or CIDR ranges, one per line or separated by commas or spaces, normalised."""
    items = [item for item in text.replace(",", " ").split() if item]
    if len(items) > MAX_CIDRS:
        raise BucketError(f"At most {MAX_CIDRS} addresses or ranges.", field="cidrs")
    result = []
    for item in items:
        try:
            result.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise BucketError(
                f"“{item[:50]}” is not an IP address or CIDR range (e.g. 192.0.2.0/24).", field="cidrs"
            ) from None
    return sorted(set(result))


def _grantee(bucket: Bucket, request: GrantRequest) -> dict[str, object]:
    """The grant's target fields, checked; raises BucketError naming the field."""
    project = bucket.project
    kind = request.kind
    if kind == Grant.Kind.MEMBER:
        member = (
            Membership.objects.filter(pk=request.member_id or 0, project=project, status=Membership.Status.ACTIVE)
            .select_related("user")
            .first()
        )
        if member is None:
            raise BucketError("Choose a member of this project.", field="member")
        return {"member": member}
    if kind == Grant.Kind.GROUP:
        group = Group.objects.filter(pk=request.group_id or 0, project=project).first()
        if group is None:
            raise BucketError("Choose a group of this project.", field="group")
        return {"group": group}
    if kind in (Grant.Kind.PROJECT, Grant.Kind.PROJECT_USER):
        other = Project.objects.filter(number=request.project_number.strip()).first()
        if other is None or other.status != Project.Status.ACTIVE:
            raise BucketError("No active project has this number.", field="project_number")
        if other.pk == project.pk:
            raise BucketError(
                "This is the bucket's own project: grant to its members or groups instead.", field="project_number"
            )
        if other.home.rights_in_keys:
            project_provision(project=other)  # its account's id names it in the policy
        if kind == Grant.Kind.PROJECT:
            return {"grantee_project": other}
        ident = request.user.strip()
        # By user name, or by an address some identity provider verified for that member; an
        # address shared by two members names nobody (never "whichever comes first").
        found = list(
            Membership.objects.filter(project=other, status=Membership.Status.ACTIVE)
            .filter(
                Q(user__username__iexact=ident)
                | Q(user__emailaddress__email__iexact=ident, user__emailaddress__verified=True)
            )
            .select_related("user")
            .distinct()[:2]
            if ident
            else []
        )
        if len(found) > 1:
            raise BucketError(
                f"More than one member of project {other.number} has this e-mail address: give the user name.",
                field="user",
            )
        if not found:
            raise BucketError(
                f"No member of project {other.number} has this user name or verified e-mail address.", field="user"
            )
        membership = found[0]
        return {"grantee_project": other, "grantee_user": membership.user}
    if kind == Grant.Kind.PUBLIC:
        if not request.public_confirmed:
            raise BucketError("Confirm that anyone on the internet may read this bucket.", field="confirm_public")
        return {}
    raise BucketError("Choose who the grant is for.", field="kind")


def _same_grantee(bucket: Bucket, target: dict[str, object], kind: str) -> bool:
    lookup = {"bucket": bucket, "kind": kind, **target}
    return Grant.objects.filter(**lookup).exists()


def grant_create(*, actor: User, bucket: Bucket, request: GrantRequest, now: datetime | None = None) -> Grant:
    now = now or timezone.now()
    if request.access not in Access.values:
        raise BucketError("Choose read-only or read and write.", field="access")
    target = _grantee(bucket, request)
    access = Access.READ if request.kind == Grant.Kind.PUBLIC else request.access  # the public only reads
    if request.expires_at is not None and request.expires_at <= now:
        raise BucketError("The end of the grant must be in the future.", field="expires_at")
    cidrs = parse_cidrs(" ".join(request.cidrs))
    if _same_grantee(bucket, target, request.kind):
        raise BucketError("This bucket already has a grant for them. Revoke it first to change it.", field="kind")
    if Grant.objects.filter(bucket=bucket).count() >= MAX_GRANTS_PER_BUCKET:
        raise BucketError(f"A bucket can have at most {MAX_GRANTS_PER_BUCKET} grants.", field="kind")
    # The principal must exist in Ceph for the policy to name it.
    if "grantee_project" in target:
        project_provision(project=target["grantee_project"])  # type: ignore[arg-type]
    subuser = user_ensure_rgw_name(user=target["grantee_user"]) if "grantee_user" in target else ""  # type: ignore[arg-type]
    with transaction.atomic():
        locked = bucket_locked(bucket.pk)
        grant = Grant.objects.create(
            bucket=locked,
            kind=request.kind,
            access=access,
            cidrs=cidrs,
            expires_at=request.expires_at,
            created_by=actor,
            grantee_subuser=subuser,
            **target,
        )
        bucket_policy_sync(locked, now=now)
    log.info("bucket %s: grant %s (%s, %s) made by user %s", bucket, grant.pk, grant.kind, access, actor.pk)
    return grant


def grant_revoke(*, actor: User, grant: Grant) -> None:
    with transaction.atomic():
        locked = bucket_locked(grant.bucket_id)
        Grant.objects.filter(pk=grant.pk).delete()
        bucket_policy_sync(locked)
    log.info("bucket %s: grant %s revoked by user %s", grant.bucket_id, grant.pk, actor.pk)


def grants_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Remove grants whose time is over and rewrite their buckets' policies. (Allow grants
    already stop in Ceph at their time through the aws:CurrentTime condition.)"""
    now = now or timezone.now()
    bucket_ids = set(Grant.objects.filter(expires_at__lte=now).values_list("bucket_id", flat=True))
    expired = failed = 0
    for bucket_id in sorted(bucket_ids):
        try:
            with transaction.atomic():
                locked = bucket_locked(bucket_id)
                expired += Grant.objects.filter(bucket=locked, expires_at__lte=now).delete()[0]
                bucket_policy_sync(locked, now=now)
        except (storage.StorageError, Bucket.DoesNotExist):
            failed += 1  # the next run retries; Latchkey no longer counts the grant meanwhile
    return {"expired": expired, "failed": failed}


# --- Groups ---------------------------------------------------------------------------------
