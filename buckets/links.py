"""Temporary links: a presigned GET URL signed with one of the member's own keys.

The secret is fetched from Ceph for the signature and dropped; the URL carries a signature,
never the secret. A link cannot outlive its key (Ceph refuses a removed key's signatures), so
its lifetime is capped at the key's expiry and the person is told when that happens: links
dying earlier than asked is a known complaint about MinIO and a caveat in LUMI-O's guide.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from buckets.errors import BucketError
from buckets.models import Bucket
from keys.models import AccessKey
from projects.models import Membership
from storage import client as storage
from storage import homes

log = logging.getLogger(__name__)
MAX_HOURS = 168  # SigV4's own limit is 7 days


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime
    asked_until: datetime

    @property
    def capped(self) -> bool:
        return self.expires_at < self.asked_until


def link_keys(membership: Membership, *, now: datetime | None = None) -> list[AccessKey]:
    """The member's keys that can sign a link now."""
    now = now or timezone.now()
    return list(
        AccessKey.objects.filter(
            owner=membership.user, project=membership.project, status=AccessKey.Status.ACTIVE, expires_at__gt=now
        )
    )


def link_create(
    *,
    membership: Membership,
    bucket: Bucket,
    access_key_id: str,
    object_key: str,
    hours: int,
    now: datetime | None = None,
) -> Link:
    now = now or timezone.now()
    if not 1 <= hours <= MAX_HOURS:
        raise BucketError(f"A link works for 1 to {MAX_HOURS} hours.", field="hours")
    if not object_key or len(object_key) > 1024:
        raise BucketError("Enter the object's name (at most 1024 characters).", field="object_key")
    key = next((k for k in link_keys(membership, now=now) if k.access_key_id == access_key_id), None)
    if key is None or bucket.project_id != membership.project_id:
        raise BucketError("Choose one of your active keys in this project.", field="key")
    asked_until = now + timedelta(hours=hours)
    expires_at = min(asked_until, key.expires_at)
    seconds = int((expires_at - now).total_seconds())
    if seconds < 1:
        raise BucketError("This key expires too soon to sign a link. Extend it first.", field="key")
    secret = homes.key_secret(bucket.project.home, access_key=key.access_key_id, user=key.rgw_user)
    if secret is None:
        raise BucketError("This key is no longer in the storage service.", field="key")
    url = storage.object_presign_get(
        access_key=key.access_key_id, secret_key=secret, bucket=bucket.name, key=object_key, seconds=seconds
    )
    log.info("bucket %s: link for %d s signed with key %s", bucket, seconds, key.access_key_id)
    return Link(url=url, expires_at=now + timedelta(seconds=seconds), asked_until=asked_until)
