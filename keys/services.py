"""Writes to S3 keys. Ceph and the database agree after every call, even when Ceph fails."""

from __future__ import annotations

import logging
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from keys.models import AccessKey
from projects.models import Membership
from projects.services import membership_provision
from storage import client as storage

log = logging.getLogger(__name__)

# A PENDING row older than this belongs to a request that died between our write and Ceph's.
PENDING_GRACE = timedelta(minutes=5)
_ID_ALPHABET = string.ascii_uppercase + string.digits


class KeyActionError(Exception):
    """A key operation that cannot be done; the message is meant for the user."""


@dataclass(frozen=True)
class IssuedKey:
    key: AccessKey
    secret: str  # handed to the user once, never stored


def _new_access_key_id() -> str:
    # 20 characters like AWS ids; the "LK" prefix tells operators which keys Latchkey issued.
    return "LK" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))


def key_create(*, membership: Membership, hours: int, description: str, now: datetime | None = None) -> IssuedKey:
    if not 1 <= hours <= settings.LATCHKEY_KEY_MAX_HOURS:
        raise KeyActionError(f"The duration must be between 1 and {settings.LATCHKEY_KEY_MAX_HOURS} hours.")
    now = now or timezone.now()
    membership_provision(membership=membership)
    key = AccessKey.objects.create(
        access_key_id=_new_access_key_id(),
        project=membership.project,
        owner=membership.user,
        subuser=membership.user.rgw_name or "",
        description=description,
        status=AccessKey.Status.PENDING,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    tenant = membership.project.tenant
    try:
        secret = storage.key_create(tenant=tenant, subuser=key.subuser, access_key=key.access_key_id)
    except storage.StorageError:
        _discard_pending(key)
        raise
    AccessKey.objects.filter(pk=key.pk).update(status=AccessKey.Status.ACTIVE)
    key.status = AccessKey.Status.ACTIVE
    log.info(
        "key %s created for user %s in project %s, expires %s",
        key.access_key_id,
        key.owner_id,
        membership.project.number,
        key.expires_at.isoformat(),
    )
    return IssuedKey(key=key, secret=secret)


def _discard_pending(key: AccessKey) -> None:
    """Undo a creation that Ceph did not confirm. If Ceph cannot even be asked, the PENDING row
    stays and ``keys_expire_overdue`` removes the key from Ceph (if it is there) and the row."""
    try:
        storage.key_remove(tenant=key.project.tenant, access_key=key.access_key_id)
    except storage.StorageError:
        log.warning("key %s: creation failed and cleanup deferred", key.access_key_id)
        return
    key.delete()


def _end(key: AccessKey, *, status: str, reason: str, now: datetime) -> bool:
    """Remove the key from Ceph, then record its end. Returns False if it had already ended."""
    storage.key_remove(tenant=key.project.tenant, access_key=key.access_key_id)
    with transaction.atomic():
        updated = AccessKey.objects.filter(
            pk=key.pk, status__in=[AccessKey.Status.ACTIVE, AccessKey.Status.PENDING]
        ).update(status=status, ended_at=now, end_reason=reason)
    if updated:
        log.info("key %s ended: %s", key.access_key_id, reason)
    return bool(updated)


def key_delete(*, key: AccessKey, now: datetime | None = None) -> None:
    """The owner deletes a key. Irreversible; a Ceph failure leaves the key active."""
    if key.status != AccessKey.Status.ACTIVE:
        raise KeyActionError("This key has already ended.")
    _end(key, status=AccessKey.Status.REVOKED, reason="deleted by owner", now=now or timezone.now())


def keys_revoke_for_membership(*, membership: Membership, reason: str, now: datetime | None = None) -> int:
    now = now or timezone.now()
    keys = AccessKey.objects.select_related("project").filter(
        owner=membership.user,
        project=membership.project,
        status__in=[AccessKey.Status.ACTIVE, AccessKey.Status.PENDING],
    )
    return sum(_end(key, status=AccessKey.Status.REVOKED, reason=reason, now=now) for key in keys)


def keys_expire_overdue(*, now: datetime | None = None) -> dict[str, int]:
    """The safety-net sweep: remove every key past its expiry, and abandoned PENDING keys,
    from Ceph. Idempotent; a failure on one key is logged and retried on the next run."""
    now = now or timezone.now()
    expired = cleaned = failed = 0
    overdue = AccessKey.objects.select_related("project").filter(status=AccessKey.Status.ACTIVE, expires_at__lte=now)
    for key in overdue:
        try:
            expired += _end(key, status=AccessKey.Status.EXPIRED, reason="expired", now=now)
        except storage.StorageError:
            failed += 1
    abandoned = AccessKey.objects.select_related("project").filter(
        status=AccessKey.Status.PENDING, created_at__lte=now - PENDING_GRACE
    )
    for key in abandoned:
        try:
            storage.key_remove(tenant=key.project.tenant, access_key=key.access_key_id)
            key.delete()
            cleaned += 1
        except storage.StorageError:
            failed += 1
    if expired or cleaned or failed:
        log.info("sweep: %d expired, %d abandoned cleaned, %d failed", expired, cleaned, failed)
    return {"expired": expired, "cleaned": cleaned, "failed": failed}
