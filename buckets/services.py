"""Writes to buckets: create, delete, and the rule for the project's own members."""

from __future__ import annotations

import ipaddress
import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from buckets.errors import BucketError
from buckets.models import Bucket
from buckets.sync import bucket_locked, bucket_policy_sync, policies_sync_soon
from projects.models import Membership
from projects.services import project_provision
from storage import client as storage
from storage import homes

log = logging.getLogger(__name__)


_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` breaks the S3 bucket naming rules, or None if it follows them."""
    if not 3 <= len(name) <= 63:
        return "A bucket name is 3 to 63 characters long."
    if not _NAME.match(name):
        return (
            "A bucket name uses lowercase letters, digits, dots and hyphens only, "
            "and starts and ends with a letter or digit."
        )
    if ".." in name or ".-" in name or "-." in name:
        return "A bucket name cannot have two dots in a row, or a dot next to a hyphen."
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "A bucket name cannot look like an IP address."
    if name.startswith("xn--") or name.endswith("-s3alias"):
        return "A bucket name cannot start with 'xn--' or end with '-s3alias'."
    return None


def bucket_create(*, membership: Membership, name: str) -> Bucket:
    """Create a bucket in Ceph, owned by the project, and record it. Ceph enforces the
    project's bucket limit; its refusals become a message."""
    problem = bucket_name_problem(name)
    if problem:
        raise BucketError(problem, field="name")
    project = membership.project
    if Bucket.objects.filter(project=project, name=name).exists():
        raise BucketError(f"This project already has a bucket named {name}.", field="name")
    project_provision(project=project)
    try:
        homes.bucket_create(project.home, name=name)
    except storage.StorageUnavailable:
        raise
    except storage.StorageError as exc:
        messages = {
            "BucketAlreadyExists": f"This project already has a bucket named {name}.",
            "BucketAlreadyOwnedByYou": f"This project already has a bucket named {name}.",
            "TooManyBuckets": "The project has reached its maximum number of buckets.",
            "InvalidBucketName": "The storage service does not accept this bucket name.",
        }
        if exc.code not in messages:
            raise
        raise BucketError(messages[exc.code], field="name") from None
    try:
        bucket = Bucket.objects.create(project=project, name=name, created_at=timezone.now())
    except IntegrityError:  # recorded concurrently (a usage refresh saw it first)
        bucket = Bucket.objects.get(project=project, name=name)
    log.info("bucket %s created by user %s", bucket, membership.user_id)
    # Every bucket has a policy (the members' settings reads; the project's read-only keys,
    # read-only members' included, read every bucket, this one too), written now. If Ceph
    # refuses, the bucket is made and a task or the periodic check writes its policy (until
    # then: refused, never more than is due).
    Bucket.objects.filter(pk=bucket.pk).update(policy_dirty=True)
    try:
        with transaction.atomic():
            bucket_policy_sync(bucket_locked(bucket.pk))
    except storage.StorageError as exc:
        log.warning("bucket %s: first policy not written yet (%s)", bucket, exc.code)
        policies_sync_soon(project)
    return bucket


def bucket_left_out_dismiss(*, bucket: Bucket) -> None:
    """A manager has read which statements the last policy write left out: forget them."""
    Bucket.objects.filter(pk=bucket.pk).update(policy_left_out=[])
    bucket.policy_left_out = []


def bucket_delete(*, membership: Membership, bucket: Bucket) -> None:
    """Delete an empty bucket, with its grants. A bucket with objects is refused."""
    try:
        homes.bucket_remove(bucket.project.home, name=bucket.name)
    except storage.StorageUnavailable:
        raise
    except storage.StorageError as exc:
        if exc.code == "BucketNotEmpty":
            raise BucketError("The bucket is not empty. Delete its objects first, then the bucket.") from None
        raise
    bucket.delete()
    log.info("bucket %s deleted by user %s", bucket, membership.user_id)


def bucket_set_members_access(*, bucket: Bucket, members_access: str) -> None:
    """Change the rule for the project's own members; Ceph's policy is written before commit."""
    if members_access not in Bucket.MembersAccess.values:
        raise BucketError("Choose one of the listed options.", field="members_access")
    with transaction.atomic():
        locked = bucket_locked(bucket.pk)
        locked.members_access = members_access
        locked.save(update_fields=["members_access"])
        bucket_policy_sync(locked)
    bucket.members_access = members_access
